package findingrec

import (
	"crypto/sha256"
	_ "embed"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
)

// The first byte of each form Compress and CompressSplit write. A zstd
// frame starts with 0x28.
const (
	// formS2Dict1: an S2 block against s2Dict1.
	formS2Dict1 = 0x01
	// formSplit: a uvarint n, n bytes as they are, then an S2 block against
	// s2Dict1 of the rest.
	formSplit = 0x02
)

// maxDecoded bounds what one blob may decompress to, as zstd's decoder is
// bounded: a corrupt length must not allocate gigabytes.
const maxDecoded = 64 << 20

// s2Dict1 is dictionary 1's last 64 KiB (S2's largest dictionary) with the
// first repeat offset at 0. It is frozen with dictionary 1: blocks written
// against it read only with these bytes.
var s2Dict1 = sync.OnceValue(func() *s2.Dict {
	return s2.MakeDictManual(dict1[len(dict1)-s2.MaxDictSize:], 0)
})

// Documents and records are compressed one by one with a raw content
// dictionary of sample findings (see internal/mkdict), so that any finding
// reads alone and small JSON documents still compress well.
//
// Two forms are read; Compress writes the second:
//
//   - a zstd frame (magic 28 b5 2f fd) naming its dictionary. Generated
//     findings average about 400 bytes (1.4 KB without the dictionary), but
//     zstd with a dictionary resets about 340 KB of tables and history per
//     call: about 20 µs to compress a 2.9 KB document and 6 µs to read it.
//   - formS2Dict1: the byte 0x01, then an S2 block (klauspost/compress/s2)
//     against s2Dict1, the last 64 KiB of dictionary 1. About 570 bytes for
//     the same documents, but 4 µs to compress and 1.8 µs to read, which is
//     what the import endpoint and GetFindings spend their time on.
//
// A later form gets another first byte; no form may change once written.
// dict1 is dictionary 1. It is frozen: documents compressed with it read
// only with these exact bytes (TestDictionariesAreFrozen).
//
//go:embed dict/1.json
var dict1 []byte

// dictionaries maps each dictionary id to the SHA-256 its content must
// have.
var dictionaries = map[uint32]struct {
	content []byte
	sha256  string
}{
	1: {dict1, "65919e930706da64538eb1f78f9916f1b1517f3b818fc645518f168fb3a32c30"},
}

// currentDict is the dictionary new frames use.
const currentDict = 1

var (
	zstdOnce sync.Once
	zstdEnc  *zstd.Encoder
	zstdDec  *zstd.Decoder
	zstdErr  error
)

func codecs() (*zstd.Encoder, *zstd.Decoder, error) {
	zstdOnce.Do(func() {
		for id, d := range dictionaries {
			sum := sha256.Sum256(d.content)
			if hex.EncodeToString(sum[:]) != d.sha256 {
				zstdErr = fmt.Errorf("findingrec: dictionary %d has changed; it must stay as it was written", id)
				return
			}
		}
		zstdEnc, zstdErr = zstd.NewWriter(nil,
			zstd.WithEncoderDictRaw(currentDict, dictionaries[currentDict].content),
			zstd.WithEncoderLevel(zstd.SpeedFastest),
			zstd.WithEncoderCRC(false), // SQLite pages have their own integrity
			zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)))
		if zstdErr != nil {
			return
		}
		opts := []zstd.DOption{zstd.WithDecoderConcurrency(runtime.GOMAXPROCS(0)), zstd.WithDecoderMaxMemory(64 << 20)}
		for id, d := range dictionaries {
			opts = append(opts, zstd.WithDecoderDictRaw(id, d.content))
		}
		zstdDec, zstdErr = zstd.NewReader(nil, opts...)
	})
	return zstdEnc, zstdDec, zstdErr
}

// Compress appends the compressed form of src to dst (formS2Dict1). It is
// safe for concurrent use.
func Compress(dst, src []byte) ([]byte, error) {
	return appendS2(append(dst, formS2Dict1), src)
}

// appendS2 appends an S2 block of src against s2Dict1.
func appendS2(dst, src []byte) ([]byte, error) {
	if _, _, err := codecs(); err != nil { // the dictionaries are checked
		return nil, err
	}
	n := s2.MaxEncodedLen(len(src))
	if n < 0 {
		return nil, fmt.Errorf("findingrec: compress: %d bytes is too large", len(src))
	}
	dst = slices.Grow(dst, n)
	at := len(dst)
	block := s2Dict1().Encode(dst[at:at+n], src)
	return dst[:at+len(block)], nil
}

// CompressSplit is Compress that keeps the first head bytes of src as they
// are (formSplit), so that DecompressHead returns them without
// decompressing anything: a record's head (see Codec.HeadSize) is what
// GetFindings needs of it.
func CompressSplit(dst, src []byte, head int) ([]byte, error) {
	if head < 0 || head > len(src) {
		return nil, fmt.Errorf("findingrec: compress: head of %d bytes in %d", head, len(src))
	}
	dst = append(dst, formSplit)
	dst = binary.AppendUvarint(dst, uint64(head))
	dst = append(dst, src[:head]...)
	return appendS2(dst, src[head:])
}

// DecompressHead appends to dst the head CompressSplit kept, or, for the
// other forms, the whole content as Decompress does.
func DecompressHead(dst, src []byte) ([]byte, error) {
	if len(src) == 0 || src[0] != formSplit {
		return Decompress(dst, src)
	}
	head, _, err := splitForm(src)
	if err != nil {
		return nil, err
	}
	return append(dst, head...), nil
}

// splitForm returns the parts of a formSplit blob.
func splitForm(src []byte) (head, block []byte, err error) {
	n, size := binary.Uvarint(src[1:])
	if size <= 0 || n > uint64(len(src)-1-size) {
		return nil, nil, fmt.Errorf("findingrec: decompress: %w", ErrCorrupt)
	}
	at := 1 + size
	return src[at : at+int(n)], src[at+int(n):], nil
}

// compressZstd is how Compress wrote until formS2Dict1: tests keep
// checking that these frames read.
func compressZstd(dst, src []byte) ([]byte, error) {
	enc, _, err := codecs()
	if err != nil {
		return nil, err
	}
	return enc.EncodeAll(src, dst), nil
}

// Decompress appends the content of the compressed src to dst. It is safe
// for concurrent use.
func Decompress(dst, src []byte) ([]byte, error) {
	_, dec, err := codecs()
	if err != nil {
		return nil, err
	}
	if len(src) > 0 && src[0] == formS2Dict1 {
		return decompressS2(dst, src[1:])
	}
	if len(src) > 0 && src[0] == formSplit {
		head, block, err := splitForm(src)
		if err != nil {
			return nil, err
		}
		return decompressS2(append(dst, head...), block)
	}
	out, err := dec.DecodeAll(src, dst)
	if err != nil {
		return nil, fmt.Errorf("findingrec: decompress: %w", err)
	}
	return out, nil
}

// decompressS2 appends the content of an S2 block against s2Dict1 to dst.
func decompressS2(dst, block []byte) ([]byte, error) {
	n, err := s2.DecodedLen(block)
	if err != nil {
		return nil, fmt.Errorf("findingrec: decompress: %w", err)
	}
	if n > maxDecoded {
		return nil, fmt.Errorf("findingrec: decompress: %d bytes is more than %d", n, maxDecoded)
	}
	dst = slices.Grow(dst, n)
	at := len(dst)
	out, err := s2Dict1().Decode(dst[at:at+n], block)
	if err != nil {
		return nil, fmt.Errorf("findingrec: decompress: %w", err)
	}
	return dst[:at+len(out)], nil
}
