// Command billingd is the billing service. Subcommands:
//
//	billingd serve                 run the HTTP API (production)
//	billingd dev                   run everything locally for a newcomer
//	billingd migrate up|down N|force N|version
//	billingd admin …               operator actions (merchants, keys, PG accounts)
//
// main only wires packages together; each subcommand is one file.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "billingd:", err)
		var u usageError
		if errors.As(err, &u) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// usageError is a mistake on the command line.
type usageError string

func (u usageError) Error() string { return string(u) + "\n" + usage }

const usage = `usage:
  billingd serve                          run the HTTP API (needs BILLINGD_DATABASE_URL, …)
  billingd dev [--data-dir DIR] [--addr HOST:PORT]
                                          local Postgres, sandbox merchant, keys and PGs
  billingd migrate up | down N | force N | version
  billingd admin create-merchant NAME
  billingd admin create-key MERCHANT_ID secret|publishable test|live
  billingd admin revoke-key KEY_ID
  billingd admin create-provider-account MERCHANT_ID JSON
  billingd admin list-provider-accounts MERCHANT_ID`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError("no command given")
	}
	switch args[0] {
	case "serve":
		return serve(ctx, stderr)
	case "dev":
		return dev(ctx, args[1:], stdout, stderr)
	case "migrate":
		return migrateCmd(ctx, args[1:], stdout)
	case "admin":
		return adminCmd(ctx, args[1:], stdout)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return usageError(fmt.Sprintf("unknown command %q", args[0]))
}
