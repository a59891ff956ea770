package main

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/billingd/billingd/internal/config"
	"github.com/billingd/billingd/internal/store"
)

// migrateCmd runs migrations as a one-shot (a Kubernetes Job, a compose
// service), so replicas can start with BILLINGD_MIGRATE=false.
func migrateCmd(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError("migrate needs up, down N, force N or version")
	}
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	if err := cfg.Require("DATABASE_URL"); err != nil {
		return err
	}
	// Migrations never touch sealed data, so no encryption key is needed.
	st, err := store.Open(ctx, cfg.DatabaseURL, 4, nil)
	if err != nil {
		return err
	}
	defer st.Close()

	switch {
	case args[0] == "up" && len(args) == 1:
		err = st.Migrate(ctx)
	case (args[0] == "down" || args[0] == "force") && len(args) == 2:
		n, convErr := strconv.Atoi(args[1])
		if convErr != nil || n < 0 {
			return usageError(fmt.Sprintf("migrate %s needs a whole number, got %q", args[0], args[1]))
		}
		if args[0] == "down" {
			err = st.MigrateDown(ctx, n)
		} else {
			err = st.MigrateForce(ctx, n)
		}
	case args[0] == "version" && len(args) == 1:
	default:
		return usageError(fmt.Sprintf("unknown migrate arguments %q", args))
	}
	if err != nil {
		return err
	}
	status, err := st.Migrations(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "schema version %d (binary carries %d)%s\n", status.Version, status.Head, dirtyNote(status.Dirty))
	return nil
}

func dirtyNote(dirty bool) string {
	if dirty {
		return " — DIRTY: a migration failed half-way; repair it, then run billingd migrate force N"
	}
	return ""
}
