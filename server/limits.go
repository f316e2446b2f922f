package server

import (
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/kpimon/kpimon/collector"
)

// Limits on what one request may cost.
//
// A body is read up to its limit and no further: a declared Content-Length over the limit
// is refused before a byte is read, and a body that turns out longer is cut at the limit
// (http.MaxBytesReader); both answer 413 with a Chinese message naming the limit. An
// answer lists at most MaxListedErrors errors and says how many more there were, so a
// file of a million bad rows gets an answer of a few hundred kilobytes, not gigabytes.

// MaxListedErrors bounds the errors one answer lists (the API's JSON and the upload
// page); the rest are counted ("另有 N 处错误未列出").
const MaxListedErrors = 1000

// ErrTooLarge is a request body over its limit; the API answers 413.
var ErrTooLarge = errors.New("request body too large")

// errBodyTimeout is a request body that did not arrive within its read deadline; the API
// answers 408.
var errBodyTimeout = errors.New("request body timed out")

// bodyTimeoutMessage is what a client whose body trickled is told.
const bodyTimeoutMessage = "上传太慢：请求在限定时间内没有传完，已中断，未写入任何数据；请在网络较好时重试"

// tooLargeError is a body over the limit, with the limit for the message.
type tooLargeError struct{ limit int64 }

func (e *tooLargeError) Error() string {
	return fmt.Sprintf("请求体超过 %s 的上限，未读取也未写入任何数据：请把数据拆成几批分别提交", formatBytes(e.limit))
}

// Unwrap makes errors.Is(err, ErrTooLarge) hold.
func (e *tooLargeError) Unwrap() error { return ErrTooLarge }

// formatBytes writes a limit for people: 32 MB, 64 KB.
func formatBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d 字节", n)
}

// readBody reads a request body of at most limit bytes. A body over the limit is a
// *tooLargeError (ErrTooLarge) and is not read past the limit; a body that stops arriving
// before the read deadline is errBodyTimeout.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, &tooLargeError{limit}
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		return nil, bodyError(err, limit)
	}
	return data, nil
}

// bodyError names why a body could not be read: too large, too slow, or cut off.
func bodyError(err error, limit int64) error {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return &tooLargeError{limit}
	case isTimeout(err):
		return errBodyTimeout
	}
	return fmt.Errorf("%w: 请求体读取失败（上传中断），未写入任何数据，请重试", ErrBadRequest)
}

// isTimeout reports whether err is a network timeout (the body's read deadline passed).
func isTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}

// batchErrors returns the errors of a refused batch to list (at most MaxListedErrors) and
// how many there were in all.
func batchErrors(be *collector.BatchError) (listed []*collector.RowError, total int) {
	total = be.Count() // the collector keeps the first errors and counts the rest
	listed = be.Errors
	if len(listed) > MaxListedErrors {
		listed = listed[:MaxListedErrors]
	}
	return listed, total
}

// rowErrors converts the errors to list into the API's shape.
func rowErrors(errs []*collector.RowError) []rowError {
	out := make([]rowError, len(errs))
	for i, e := range errs {
		out[i] = rowError{Where: e.Where, Field: e.Field, Message: e.Msg}
	}
	return out
}

// omittedNote is the sentence under a capped list of errors, or "" when all are listed.
func omittedNote(omitted int) string {
	if omitted <= 0 {
		return ""
	}
	return fmt.Sprintf("另有 %d 处错误未列出", omitted)
}

// maxListedWarnings is how many warnings of figures far above earlier months an answer or a
// preview lists; a note says how many more there were.
const maxListedWarnings = 100

// capWarnings keeps the first maxListedWarnings warnings and, when there were more, a last
// line saying how many were left out.
func capWarnings(texts []string) []string {
	if len(texts) <= maxListedWarnings {
		return texts
	}
	return append(texts[:maxListedWarnings:maxListedWarnings], fmt.Sprintf("另有 %d 条提示未列出", len(texts)-maxListedWarnings))
}
