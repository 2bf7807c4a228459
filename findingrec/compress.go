package findingrec

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"runtime"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// Documents and records are compressed one by one with zstd and a raw
// content dictionary (sample findings, see internal/mkdict), so that any
// finding reads alone and small JSON documents still compress well: 2.8 KB
// generated findings average about 400 bytes, against 1.4 KB without the
// dictionary. A frame names its dictionary, so a later dictionary gets a
// new id and the old ones stay readable.

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

// Compress appends the compressed form of src to dst. It is safe for
// concurrent use.
func Compress(dst, src []byte) ([]byte, error) {
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
	out, err := dec.DecodeAll(src, dst)
	if err != nil {
		return nil, fmt.Errorf("findingrec: decompress: %w", err)
	}
	return out, nil
}
