package guardpost

import (
	"errors"
	"fmt"
)

// Error kinds. The transport maps each kind to one AWS error shape; the
// domain never names AWS error types itself.
const (
	EINVALID        = "invalid"         // the caller sent something wrong: 400 BadRequestException
	ENOTFOUND       = "not_found"       // a resource the caller names does not exist
	ECONFLICT       = "conflict"        // the request clashes with the current state
	EDENIED         = "denied"          // the caller may not do this
	ENOTIMPLEMENTED = "not_implemented" // the operation is routed but not built yet
	EINTERNAL       = "internal"        // anything else; its text never reaches the client
)

// Error is the one error type the domain returns. Message is written for the
// API caller and is sent to them unless Kind is EINTERNAL.
type Error struct {
	Kind    string
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("guardpost error: kind=%s message=%s", e.Kind, e.Message)
}

// Errorf builds an *Error of the given kind.
func Errorf(kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// ErrorKind returns the kind of err, EINTERNAL for foreign errors and "" for nil.
func ErrorKind(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return EINTERNAL
}

// ErrorMessage returns the caller-facing message of err. Foreign errors
// collapse to a fixed text so internal details never leak.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) && e.Kind != EINTERNAL {
		return e.Message
	}
	return "Internal server error."
}
