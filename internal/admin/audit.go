package admin

import (
	"context"

	"github.com/billingd/billingd/internal/audit"
	"github.com/billingd/billingd/internal/store"
)

// ListAuditEvents reads the audit log, newest first.
func (s *Service) ListAuditEvents(ctx context.Context, f store.AuditFilter) ([]audit.Event, bool, error) {
	return s.store.ListAuditEvents(ctx, f)
}
