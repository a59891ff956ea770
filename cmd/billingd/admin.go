package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/user"
	"strings"

	"github.com/billingd/billingd/internal/admin"
	"github.com/billingd/billingd/internal/audit"
	"github.com/billingd/billingd/internal/config"
)

// adminCmd performs operator actions straight on the database, through the
// same admin.Service as the admin HTTP API.
func adminCmd(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError("admin needs an action")
	}
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	if err := cfg.Require("DATABASE_URL", "ENCRYPTION_KEY"); err != nil {
		return err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := admin.New(st, cfg.PublicBaseURL)
	ctx = audit.WithActor(ctx, cliActor())

	want := func(n int, shape string) error {
		if len(args)-1 != n {
			return usageError("usage: billingd admin " + args[0] + " " + shape)
		}
		return nil
	}
	switch args[0] {
	case "create-merchant":
		if err := want(1, "NAME"); err != nil {
			return err
		}
		m, err := svc.CreateMerchant(ctx, args[1])
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, m.ID)
	case "create-key":
		if err := want(3, "MERCHANT_ID secret|publishable test|live"); err != nil {
			return err
		}
		k, secret, err := svc.CreateAPIKey(ctx, args[1], args[2], args[3])
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s %s\n", k.ID, secret)
	case "revoke-key":
		if err := want(1, "KEY_ID"); err != nil {
			return err
		}
		if _, err := svc.RevokeAPIKey(ctx, args[1]); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "revoked", args[1])
	case "create-provider-account":
		if err := want(2, `MERCHANT_ID '{"provider":"iamport","mode":"test","credentials":{…}}'`); err != nil {
			return err
		}
		var in admin.ProviderAccountInput
		dec := json.NewDecoder(strings.NewReader(args[2]))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil {
			return fmt.Errorf("provider account JSON: %w", err)
		}
		a, err := svc.CreateProviderAccount(ctx, args[1], in)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s webhook_url=%s\n", a.ID, svc.WebhookURL(a))
	case "list-provider-accounts":
		if err := want(1, "MERCHANT_ID"); err != nil {
			return err
		}
		accounts, err := svc.ListProviderAccounts(ctx, args[1])
		if err != nil {
			return err
		}
		for _, a := range accounts {
			fmt.Fprintf(stdout, "%s %s %s webhook_url=%s\n", a.ID, a.Provider, a.Mode, svc.WebhookURL(a))
		}
	default:
		return usageError(fmt.Sprintf("unknown admin action %q", args[0]))
	}
	return nil
}

// cliActor names whoever runs `billingd admin` in the audit log: the
// operating system's user, as the shell that ran it knows them.
func cliActor() audit.Actor {
	name := "unknown"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	return audit.Actor{Type: audit.ActorCLI, ID: name}
}
