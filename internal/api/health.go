package api

import (
	"context"
	"net/http"
	"time"

	"github.com/rs/zerolog"
)

// healthz says the process is alive. It touches nothing else, so a slow
// database never gets a healthy process restarted.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz says this replica can serve: the database answers and its schema is
// at least at the version this binary carries.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	st, err := s.store.Migrations(ctx)
	switch {
	case err != nil:
		zerolog.Ctx(r.Context()).Warn().Err(err).Msg("readiness: database")
		w.Header().Set("Retry-After", retryAfterOf(errUnavailable))
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "reason": "database unreachable"})
	case !st.Ready():
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "reason": "migrations pending",
			"schema_version": st.Version, "binary_version": st.Head, "dirty": st.Dirty})
	default:
		writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "schema_version": st.Version})
	}
}
