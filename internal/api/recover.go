package api

import (
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"

	"github.com/rs/zerolog"
)

// recoverPanics turns a panicking handler into a 500 with the request id,
// logs the stack, and keeps the process serving. http.ErrAbortHandler is
// re-raised: it is net/http's way to abort a response on purpose.
func recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			rec := recover()
			if rec == nil {
				return
			}
			if err, ok := rec.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(rec)
			}
			zerolog.Ctx(r.Context()).Error().
				Str("panic", fmt.Sprint(rec)).
				Bytes("stack", debug.Stack()).
				Msg("handler panicked")
			writeError(w, r, errInternal)
		}()
		next.ServeHTTP(w, r)
	})
}
