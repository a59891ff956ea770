package deploy

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/config"
)

// postgresMaxConnections is the max_connections the budget is written for:
// PostgreSQL's default, and the smallest managed offerings'. migrateConns
// is what `billingd migrate up` holds (its pool plus the lock session);
// reservedConns is PostgreSQL's superuser_reserved_connections default.
const (
	postgresMaxConnections = 100
	migrateConns           = 2
	reservedConns          = 3
)

func TestHPAScalesTheDeployment(t *testing.T) {
	t.Parallel()
	h := k8sDoc(t, "HorizontalPodAutoscaler")
	if kind, name := mustString(t, h, "spec", "scaleTargetRef", "kind"), mustString(t, h, "spec", "scaleTargetRef", "name"); kind != "Deployment" || name != "billingd" {
		t.Errorf("scales %s/%s, want Deployment/billingd", kind, name)
	}
	minR, maxR := mustInt(t, h, "spec", "minReplicas"), mustInt(t, h, "spec", "maxReplicas")
	if minR < 2 || maxR < minR {
		t.Errorf("minReplicas %d, maxReplicas %d: want 2 <= min <= max", minR, maxR)
	}
	// The PDB must leave room for a voluntary eviction at the minimum.
	if pdbMin := mustInt(t, k8sDoc(t, "PodDisruptionBudget"), "spec", "minAvailable"); pdbMin >= minR {
		t.Errorf("PDB minAvailable %d >= HPA minReplicas %d: no node could ever be drained", pdbMin, minR)
	}
	if got := mustString(t, h, "spec", "metrics", 0, "resource", "name"); got != "cpu" {
		t.Errorf("scales on %q, want cpu", got)
	}
}

// SIGTERM comes after preStop; billingd then drains for its shutdown
// timeout; the kubelet's SIGKILL must come after both.
func TestDeploymentDrainsBeforeKill(t *testing.T) {
	t.Parallel()
	d := k8sDoc(t, "Deployment")
	c := container(t, d)
	sleep := mustInt(t, c, "lifecycle", "preStop", "sleep", "seconds")
	if sleep < 3 {
		t.Errorf("preStop sleeps %d s, want >= 3 so the endpoints drop the pod before SIGTERM", sleep)
	}
	shutdown, err := time.ParseDuration(podEnv(t, c)["BILLINGD_SHUTDOWN_TIMEOUT"])
	if err != nil {
		t.Fatalf("BILLINGD_SHUTDOWN_TIMEOUT: %v", err)
	}
	grace := mustInt(t, d, "spec", "template", "spec", "terminationGracePeriodSeconds")
	if need := sleep + int(shutdown.Seconds()) + 5; grace < need {
		t.Errorf("terminationGracePeriodSeconds = %d, want >= preStop %d + shutdown %s + 5", grace, sleep, shutdown)
	}
}

// At the HPA's ceiling plus a rolling update's surge, every pod's pool
// fits in Postgres with the migrate Job and the reserve.
func TestKubernetesConnectionBudget(t *testing.T) {
	t.Parallel()
	d := k8sDoc(t, "Deployment")
	pool, err := strconv.Atoi(podEnv(t, container(t, d))["BILLINGD_DB_MAX_CONNS"])
	if err != nil {
		t.Fatalf("BILLINGD_DB_MAX_CONNS: %v (set it explicitly: it is the budget's unit)", err)
	}
	pods := mustInt(t, k8sDoc(t, "HorizontalPodAutoscaler"), "spec", "maxReplicas") +
		mustInt(t, d, "spec", "strategy", "rollingUpdate", "maxSurge")
	if total := pods*pool + migrateConns + reservedConns; total > postgresMaxConnections {
		t.Errorf("%d pods x %d connections + %d + %d = %d > max_connections %d", pods, pool, migrateConns, reservedConns, total, postgresMaxConnections)
	}
}

func TestComposeConnectionBudget(t *testing.T) {
	t.Parallel()
	svcs := composeServices(t)
	b := svcs["billingd"]
	pool, err := strconv.Atoi(composeEnv(t, b)["BILLINGD_DB_MAX_CONNS"])
	if err != nil {
		t.Fatalf("BILLINGD_DB_MAX_CONNS: %v", err)
	}
	maxConns := 0
	for _, arg := range stringList(t, mustGet(t, svcs["postgres"], "command"), "postgres command") {
		if v, ok := strings.CutPrefix(arg, "max_connections="); ok {
			maxConns, _ = strconv.Atoi(v)
		}
	}
	if maxConns == 0 {
		t.Fatal("postgres sets no max_connections: the budget has no ceiling to check")
	}
	if total := mustInt(t, b, "deploy", "replicas")*pool + migrateConns + reservedConns; total > maxConns {
		t.Errorf("compose needs %d connections, postgres allows %d", total, maxConns)
	}
}

func TestComposeLoadBalancer(t *testing.T) {
	t.Parallel()
	lb := composeServices(t)["lb"]
	mounted := false
	for _, v := range stringList(t, mustGet(t, lb, "volumes"), "lb volumes") {
		if strings.HasPrefix(v, "./lb/nginx.conf:/etc/nginx/nginx.conf") {
			mounted = true
		}
	}
	if !mounted {
		t.Error("lb does not mount ./lb/nginx.conf")
	}
	if cond, _ := lookup(lb, "depends_on", "billingd", "condition"); cond == nil {
		t.Error("lb does not depend on billingd")
	}
	conf, err := os.ReadFile("lb/nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`server billingd:` + strconv.Itoa(containerPort) + ` resolve;`, // every replica, re-resolved
		`resolver 127.0.0.11`,       // Docker's DNS
		`proxy_next_upstream error`, // a refused request moves on
		`location /webhooks/`,
	} {
		if !strings.Contains(string(conf), want) {
			t.Errorf("lb/nginx.conf lacks %q", want)
		}
	}
	if open, close := strings.Count(string(conf), "{"), strings.Count(string(conf), "}"); open != close {
		t.Errorf("lb/nginx.conf has %d { and %d }", open, close)
	}
}

// The settings the manifests give billingd are ones it accepts (config's
// own checks: durations, pool >= workers + 5, log level and format).
func TestManifestSettingsAreAccepted(t *testing.T) {
	compose := composeEnv(t, composeServices(t)["billingd"])
	defaults := regexp.MustCompile(`^\$\{[A-Z_]+:-(.*)\}$`)
	for k, v := range compose {
		if m := defaults.FindStringSubmatch(v); m != nil {
			compose[k] = m[1]
		}
	}
	sets := map[string]map[string]string{
		"k8s/deployment.yaml": podEnv(t, container(t, k8sDoc(t, "Deployment"))),
		"compose.yaml":        compose,
	}
	for name, env := range sets {
		t.Run(name, func(t *testing.T) {
			for _, kv := range os.Environ() {
				if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, config.Prefix+"_") {
					t.Setenv(k, "")
					os.Unsetenv(k)
				}
			}
			for k, v := range env {
				if strings.HasPrefix(v, "${") {
					continue // a secret the operator sets
				}
				t.Setenv(k, v)
			}
			if _, err := config.Load(); err != nil {
				t.Errorf("billingd refuses %s's settings: %v", name, err)
			}
		})
	}
}
