package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/httpapi/wire"
	"github.com/guardpost/guardpost/sigv4"
)

// apiError is an error already in AWS terms: an error type and a status.
type apiError struct {
	Status  int
	Type    string
	Message string
}

func (e *apiError) Error() string { return e.Type + ": " + e.Message }

func badRequest(format string, args ...any) *apiError {
	return &apiError{Status: http.StatusBadRequest, Type: "BadRequestException", Message: sprintf(format, args...)}
}

// kindErrors maps domain error kinds to the AWS error shapes of the model.
var kindErrors = map[string]struct {
	status int
	typ    string
}{
	guardpost.EINVALID:        {http.StatusBadRequest, "BadRequestException"},
	guardpost.ENOTFOUND:       {http.StatusNotFound, "ResourceNotFoundException"},
	guardpost.ECONFLICT:       {http.StatusConflict, "ConflictException"},
	guardpost.EDENIED:         {http.StatusForbidden, "AccessDeniedException"},
	guardpost.ENOTIMPLEMENTED: {http.StatusNotImplemented, "NotImplementedException"},
	guardpost.EINTERNAL:       {http.StatusInternalServerError, "InternalServerErrorException"},
}

// writeError writes every error response the API sends, in the AWS
// restJson1 shape, and logs only internal errors (with the request id,
// since their text never reaches the client).
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	e := toAPIError(err)
	if e.Status >= 500 && e.Type == "InternalServerErrorException" {
		log.Error("internal error", "request_id", w.Header().Get("X-Amzn-RequestId"), "method", r.Method, "path", r.URL.Path, "err", err)
	}
	body, _ := json.Marshal(struct {
		Message string `json:"message"`
		Type    string `json:"__type"`
	}{e.Message, e.Type})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Amzn-ErrorType", e.Type)
	w.WriteHeader(e.Status)
	w.Write(body)
}

func toAPIError(err error) *apiError {
	var (
		ae *apiError
		au *sigv4.AuthError
		ve *wire.ValidationError
	)
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &au):
		return &apiError{Status: http.StatusForbidden, Type: au.Code, Message: au.Message}
	case errors.As(err, &ve):
		return &apiError{Status: http.StatusBadRequest, Type: "BadRequestException", Message: ve.Error()}
	}
	k := kindErrors[guardpost.ErrorKind(err)]
	return &apiError{Status: k.status, Type: k.typ, Message: guardpost.ErrorMessage(err)}
}
