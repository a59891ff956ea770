// Package deploy holds the container and orchestration files for billingd.
// It has no Go code of its own; these tests only parse the files and check
// structural facts whose violation would break a deploy. They need neither
// Docker nor a cluster.
package deploy

import (
	"bufio"
	"encoding/base64"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

const (
	containerPort = 8080
	secretName    = "billingd"
	// appShutdownTimeout is billingd's graceful shutdown timeout in seconds.
	appShutdownTimeout = 30
)

// ---------------------------------------------------------------------------
// YAML helpers

// yamlFiles returns every .yaml/.yml file under the deploy directory.
func yamlFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ext := filepath.Ext(path); !d.IsDir() && (ext == ".yaml" || ext == ".yml") {
			files = append(files, filepath.ToSlash(path))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk deploy dir: %v", err)
	}
	return files
}

// readYAMLDocs decodes every document of a (possibly multi-document) YAML
// file. Empty documents are skipped.
func readYAMLDocs(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer f.Close()

	var docs []map[string]any
	dec := yaml.NewDecoder(f)
	for i := 0; ; i++ {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: document %d: %v", path, i, err)
		}
		if doc != nil {
			docs = append(docs, doc)
		}
	}
	if len(docs) == 0 {
		t.Fatalf("%s: no YAML documents", path)
	}
	return docs
}

// lookup walks v along keys (string for mappings, int for sequences).
func lookup(v any, keys ...any) (any, bool) {
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil, false
			}
			if v, ok = m[k]; !ok {
				return nil, false
			}
		case int:
			s, ok := v.([]any)
			if !ok || k < 0 || k >= len(s) {
				return nil, false
			}
			v = s[k]
		default:
			return nil, false
		}
	}
	return v, true
}

func mustGet(t *testing.T, v any, keys ...any) any {
	t.Helper()
	got, ok := lookup(v, keys...)
	if !ok {
		t.Fatalf("missing %s", keyPath(keys))
	}
	return got
}

func mustString(t *testing.T, v any, keys ...any) string {
	t.Helper()
	s, ok := mustGet(t, v, keys...).(string)
	if !ok || s == "" {
		t.Fatalf("%s: want non-empty string, got %#v", keyPath(keys), mustGet(t, v, keys...))
	}
	return s
}

func mustMap(t *testing.T, v any, keys ...any) map[string]any {
	t.Helper()
	m, ok := mustGet(t, v, keys...).(map[string]any)
	if !ok {
		t.Fatalf("%s: want mapping, got %T", keyPath(keys), mustGet(t, v, keys...))
	}
	return m
}

func mustInt(t *testing.T, v any, keys ...any) int {
	t.Helper()
	n, ok := mustGet(t, v, keys...).(int)
	if !ok {
		t.Fatalf("%s: want integer, got %#v", keyPath(keys), mustGet(t, v, keys...))
	}
	return n
}

func stringList(t *testing.T, v any, what string) []string {
	t.Helper()
	items, ok := v.([]any)
	if !ok {
		t.Fatalf("%s: want list, got %#v", what, v)
	}
	out := make([]string, len(items))
	for i, it := range items {
		s, ok := it.(string)
		if !ok {
			t.Fatalf("%s[%d]: want string, got %#v", what, i, it)
		}
		out[i] = s
	}
	return out
}

func keyPath(keys []any) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		switch k := k.(type) {
		case int:
			parts[i] = "[" + strconv.Itoa(k) + "]"
		case string:
			parts[i] = k
		}
	}
	return strings.Join(parts, ".")
}

// ---------------------------------------------------------------------------
// Kubernetes helpers

// k8sDoc returns the single document of the given kind under k8s/.
func k8sDoc(t *testing.T, kind string) map[string]any {
	t.Helper()
	var found []map[string]any
	for _, f := range yamlFiles(t) {
		if !strings.HasPrefix(f, "k8s/") {
			continue
		}
		for _, d := range readYAMLDocs(t, f) {
			if d["kind"] == kind {
				found = append(found, d)
			}
		}
	}
	if len(found) != 1 {
		t.Fatalf("want exactly one %s under k8s/, found %d", kind, len(found))
	}
	return found[0]
}

// container returns the only container of a pod-template-bearing object.
func container(t *testing.T, obj map[string]any) map[string]any {
	t.Helper()
	cs, ok := mustGet(t, obj, "spec", "template", "spec", "containers").([]any)
	if !ok || len(cs) != 1 {
		t.Fatalf("want exactly one container, got %#v", cs)
	}
	c, ok := cs[0].(map[string]any)
	if !ok {
		t.Fatalf("container: want mapping, got %T", cs[0])
	}
	return c
}

// argv is the process a container runs, given the image's ENTRYPOINT.
func argv(t *testing.T, c map[string]any) []string {
	t.Helper()
	cmd := []string{"/billingd"} // image ENTRYPOINT
	if v, ok := c["command"]; ok {
		cmd = stringList(t, v, "command")
	}
	if v, ok := c["args"]; ok {
		cmd = append(cmd, stringList(t, v, "args")...)
	}
	return cmd
}

func podEnv(t *testing.T, c map[string]any) map[string]string {
	t.Helper()
	env := map[string]string{}
	list, _ := c["env"].([]any)
	for i := range list {
		name := mustString(t, list, i, "name")
		v, ok := lookup(list, i, "value")
		if !ok {
			continue // valueFrom
		}
		s, ok := v.(string)
		if !ok {
			t.Fatalf("env %s: value must be a string, got %#v (quote it)", name, v)
		}
		env[name] = s
	}
	return env
}

func assertEnvFromSecret(t *testing.T, c map[string]any) {
	t.Helper()
	list, _ := c["envFrom"].([]any)
	for i := range list {
		if n, ok := lookup(list, i, "secretRef", "name"); ok && n == secretName {
			return
		}
	}
	t.Errorf("container %v: no envFrom secretRef %q", c["name"], secretName)
}

func boolAt(v any, keys ...any) (bool, bool) {
	got, ok := lookup(v, keys...)
	if !ok {
		return false, false
	}
	b, ok := got.(bool)
	return b, ok
}

// assertHardened checks the pod and container security settings.
func assertHardened(t *testing.T, obj map[string]any) {
	t.Helper()
	podSC, _ := lookup(obj, "spec", "template", "spec", "securityContext")
	c := container(t, obj)
	sc, _ := c["securityContext"].(map[string]any)

	nonRoot, ok := boolAt(sc, "runAsNonRoot")
	if !ok {
		nonRoot, _ = boolAt(podSC, "runAsNonRoot")
	}
	if !nonRoot {
		t.Error("runAsNonRoot must be true (container or pod securityContext)")
	}
	for _, scope := range []any{podSC, sc} {
		if uid, ok := lookup(scope, "runAsUser"); ok && uid == 0 {
			t.Error("runAsUser must not be 0")
		}
	}
	if v, ok := boolAt(sc, "readOnlyRootFilesystem"); !ok || !v {
		t.Error("container securityContext.readOnlyRootFilesystem must be true")
	}
	if v, ok := boolAt(sc, "allowPrivilegeEscalation"); !ok || v {
		t.Error("container securityContext.allowPrivilegeEscalation must be false")
	}
	drop, _ := lookup(sc, "capabilities", "drop")
	if l, ok := drop.([]any); !ok || !slices.Contains(l, any("ALL")) {
		t.Errorf("container securityContext.capabilities.drop must contain ALL, got %#v", drop)
	}
}

// resolvePort maps a probe/Service port (number or name) to a container port.
func resolvePort(t *testing.T, c map[string]any, port any) int {
	t.Helper()
	ports, _ := c["ports"].([]any)
	for i := range ports {
		n, _ := lookup(ports, i, "containerPort")
		name, _ := lookup(ports, i, "name")
		if port == n || (name != nil && port == name) {
			if p, ok := n.(int); ok {
				return p
			}
		}
	}
	if p, ok := port.(int); ok {
		t.Errorf("port %d is not a declared containerPort", p)
		return p
	}
	t.Fatalf("port %#v matches no containerPort", port)
	return 0
}

func assertSelects(t *testing.T, selector map[string]any, podLabels map[string]any) {
	t.Helper()
	if len(selector) == 0 {
		t.Fatal("empty selector would match every pod in the namespace")
	}
	for k, v := range selector {
		if podLabels[k] != v {
			t.Errorf("selector %s=%v does not match pod template labels %v", k, v, podLabels)
		}
	}
}

// ---------------------------------------------------------------------------
// YAML / Kubernetes tests

func TestExpectedFilesExist(t *testing.T) {
	t.Parallel()
	for _, f := range []string{
		"compose.yaml",
		"README.md",
		"k8s/secret.example.yaml",
		"k8s/migrate-job.yaml",
		"k8s/deployment.yaml",
		"k8s/service.yaml",
		"k8s/pdb.yaml",
		"k8s/hpa.yaml",
		"lb/nginx.conf",
		"../Dockerfile",
		"../.dockerignore",
	} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
}

func TestYAMLFilesParse(t *testing.T) {
	t.Parallel()
	for _, f := range yamlFiles(t) {
		t.Run(f, func(t *testing.T) {
			t.Parallel()
			readYAMLDocs(t, f) // fails on syntax errors and duplicate keys
		})
	}
}

func TestK8sDocumentsIdentifyThemselves(t *testing.T) {
	t.Parallel()
	for _, f := range yamlFiles(t) {
		if !strings.HasPrefix(f, "k8s/") {
			continue
		}
		t.Run(f, func(t *testing.T) {
			t.Parallel()
			for _, d := range readYAMLDocs(t, f) {
				mustString(t, d, "apiVersion")
				mustString(t, d, "kind")
				mustString(t, d, "metadata", "name")
			}
		})
	}
}

func TestK8sKinds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file, apiVersion, kind, name string
	}{
		{"k8s/secret.example.yaml", "v1", "Secret", secretName},
		{"k8s/migrate-job.yaml", "batch/v1", "Job", "billingd-migrate"},
		{"k8s/deployment.yaml", "apps/v1", "Deployment", "billingd"},
		{"k8s/service.yaml", "v1", "Service", "billingd"},
		{"k8s/pdb.yaml", "policy/v1", "PodDisruptionBudget", "billingd"},
		{"k8s/hpa.yaml", "autoscaling/v2", "HorizontalPodAutoscaler", "billingd"},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			t.Parallel()
			docs := readYAMLDocs(t, tt.file)
			if len(docs) != 1 {
				t.Fatalf("%s: want 1 document, got %d", tt.file, len(docs))
			}
			d := docs[0]
			if got := mustString(t, d, "apiVersion"); got != tt.apiVersion {
				t.Errorf("apiVersion = %q, want %q", got, tt.apiVersion)
			}
			if got := mustString(t, d, "kind"); got != tt.kind {
				t.Errorf("kind = %q, want %q", got, tt.kind)
			}
			if got := mustString(t, d, "metadata", "name"); got != tt.name {
				t.Errorf("metadata.name = %q, want %q", got, tt.name)
			}
		})
	}
}

func TestDeployment(t *testing.T) {
	t.Parallel()
	d := k8sDoc(t, "Deployment")
	c := container(t, d)

	if n := mustInt(t, d, "spec", "replicas"); n < 2 {
		t.Errorf("replicas = %d, want >= 2", n)
	}
	assertSelects(t, mustMap(t, d, "spec", "selector", "matchLabels"),
		mustMap(t, d, "spec", "template", "metadata", "labels"))

	if got, want := argv(t, c), []string{"/billingd", "serve"}; !reflect.DeepEqual(got, want) {
		t.Errorf("runs %q, want %q", got, want)
	}
	if env := podEnv(t, c); env["BILLINGD_MIGRATE"] != "false" {
		t.Errorf(`BILLINGD_MIGRATE = %q, want "false" (migrations run in the Job)`, env["BILLINGD_MIGRATE"])
	}
	assertEnvFromSecret(t, c)
	assertHardened(t, d)

	if g := mustInt(t, d, "spec", "template", "spec", "terminationGracePeriodSeconds"); g <= appShutdownTimeout {
		t.Errorf("terminationGracePeriodSeconds = %d, want > app shutdown timeout %ds", g, appShutdownTimeout)
	}
	for _, kind := range []string{"requests", "limits"} {
		for _, res := range []string{"cpu", "memory"} {
			mustGet(t, c, "resources", kind, res)
		}
	}

	probes := []struct{ probe, path string }{
		{"startupProbe", "/healthz"},
		{"livenessProbe", "/healthz"},
		{"readinessProbe", "/readyz"},
	}
	for _, p := range probes {
		t.Run(p.probe, func(t *testing.T) {
			t.Parallel()
			if got := mustString(t, c, p.probe, "httpGet", "path"); got != p.path {
				t.Errorf("path = %q, want %q", got, p.path)
			}
			if got := resolvePort(t, c, mustGet(t, c, p.probe, "httpGet", "port")); got != containerPort {
				t.Errorf("port resolves to %d, want %d", got, containerPort)
			}
		})
	}
}

func TestMigrateJob(t *testing.T) {
	t.Parallel()
	j := k8sDoc(t, "Job")
	c := container(t, j)

	if got, want := argv(t, c), []string{"/billingd", "migrate", "up"}; !reflect.DeepEqual(got, want) {
		t.Errorf("runs %q, want %q", got, want)
	}
	if n := mustInt(t, j, "spec", "backoffLimit"); n < 0 {
		t.Errorf("backoffLimit = %d", n)
	}
	if n := mustInt(t, j, "spec", "ttlSecondsAfterFinished"); n <= 0 {
		t.Errorf("ttlSecondsAfterFinished = %d, want > 0", n)
	}
	if rp := mustString(t, j, "spec", "template", "spec", "restartPolicy"); rp != "Never" && rp != "OnFailure" {
		t.Errorf("restartPolicy = %q, want Never or OnFailure", rp)
	}
	assertEnvFromSecret(t, c)
	assertHardened(t, j)

	deployImage := mustString(t, container(t, k8sDoc(t, "Deployment")), "image")
	if img := mustString(t, c, "image"); img != deployImage {
		t.Errorf("Job image %q differs from Deployment image %q", img, deployImage)
	}
}

func TestServiceAndPDBSelectDeploymentPods(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind     string
		selector []any
	}{
		{"Service", []any{"spec", "selector"}},
		{"PodDisruptionBudget", []any{"spec", "selector", "matchLabels"}},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			t.Parallel()
			d := k8sDoc(t, "Deployment")
			assertSelects(t, mustMap(t, k8sDoc(t, tt.kind), tt.selector...),
				mustMap(t, d, "spec", "template", "metadata", "labels"))
		})
	}
}

func TestService(t *testing.T) {
	t.Parallel()
	s := k8sDoc(t, "Service")
	if typ, ok := lookup(s, "spec", "type"); ok && typ != "ClusterIP" {
		t.Errorf("type = %v, want ClusterIP", typ)
	}
	c := container(t, k8sDoc(t, "Deployment"))
	if p := mustInt(t, s, "spec", "ports", 0, "port"); p != 80 {
		t.Errorf("port = %d, want 80", p)
	}
	if got := resolvePort(t, c, mustGet(t, s, "spec", "ports", 0, "targetPort")); got != containerPort {
		t.Errorf("targetPort resolves to %d, want %d", got, containerPort)
	}
}

func TestPodDisruptionBudget(t *testing.T) {
	t.Parallel()
	if n := mustInt(t, k8sDoc(t, "PodDisruptionBudget"), "spec", "minAvailable"); n != 1 {
		t.Errorf("minAvailable = %d, want 1", n)
	}
}

// The example Secret must list every required key, and its placeholders must
// be ones billingd rejects, so applying it unedited cannot start a service
// with a publicly known admin token or encryption key.
func TestExampleSecret(t *testing.T) {
	t.Parallel()
	data := mustMap(t, k8sDoc(t, "Secret"), "stringData")
	for _, k := range []string{"BILLINGD_DATABASE_URL", "BILLINGD_ADMIN_TOKEN", "BILLINGD_ENCRYPTION_KEY"} {
		mustString(t, data, k)
	}
	if tok := data["BILLINGD_ADMIN_TOKEN"].(string); len(tok) >= 32 {
		t.Errorf("example BILLINGD_ADMIN_TOKEN is a usable token (%d chars); keep it an invalid placeholder", len(tok))
	}
	if key, err := base64.StdEncoding.DecodeString(data["BILLINGD_ENCRYPTION_KEY"].(string)); err == nil && len(key) == 32 {
		t.Error("example BILLINGD_ENCRYPTION_KEY is a usable key; keep it an invalid placeholder")
	}
}

// ---------------------------------------------------------------------------
// Compose

func composeServices(t *testing.T) map[string]any {
	t.Helper()
	docs := readYAMLDocs(t, "compose.yaml")
	if len(docs) != 1 {
		t.Fatalf("compose.yaml: want 1 document, got %d", len(docs))
	}
	return mustMap(t, docs[0], "services")
}

// composeEnv accepts both the mapping and the KEY=VALUE list forms.
func composeEnv(t *testing.T, svc any) map[string]string {
	t.Helper()
	env := map[string]string{}
	switch e := mustGet(t, svc, "environment").(type) {
	case map[string]any:
		for k, v := range e {
			s, ok := v.(string)
			if !ok {
				t.Fatalf("environment %s: want string, got %#v (quote it)", k, v)
			}
			env[k] = s
		}
	case []any:
		for _, kv := range stringList(t, e, "environment") {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
	default:
		t.Fatalf("environment: unexpected %T", e)
	}
	return env
}

func TestComposeServices(t *testing.T) {
	t.Parallel()
	svcs := composeServices(t)
	for _, name := range []string{"postgres", "migrate", "billingd"} {
		if _, ok := svcs[name]; !ok {
			t.Errorf("missing service %q", name)
		}
	}

	deps := []struct{ svc, dep, condition string }{
		{"migrate", "postgres", "service_healthy"},
		{"billingd", "migrate", "service_completed_successfully"},
	}
	for _, d := range deps {
		if got, _ := lookup(svcs, d.svc, "depends_on", d.dep, "condition"); got != d.condition {
			t.Errorf("%s depends_on %s condition = %v, want %s", d.svc, d.dep, got, d.condition)
		}
	}
}

func TestComposePostgres(t *testing.T) {
	t.Parallel()
	docs := readYAMLDocs(t, "compose.yaml")
	pg := mustMap(t, docs[0], "services", "postgres")

	if img := mustString(t, pg, "image"); !strings.HasPrefix(img, "postgres:16") {
		t.Errorf("image = %q, want postgres:16", img)
	}
	test := strings.Join(stringList(t, mustGet(t, pg, "healthcheck", "test"), "healthcheck.test"), " ")
	if !strings.Contains(test, "pg_isready") {
		t.Errorf("healthcheck %q does not use pg_isready", test)
	}

	vols := stringList(t, mustGet(t, pg, "volumes"), "volumes")
	named := false
	for _, v := range vols {
		src, dst, _ := strings.Cut(v, ":")
		if dst == "/var/lib/postgresql/data" && !strings.ContainsAny(src, "./") {
			named = true
			if _, ok := lookup(docs[0], "volumes", src); !ok {
				t.Errorf("named volume %q is not declared under top-level volumes", src)
			}
		}
	}
	if !named {
		t.Errorf("postgres data is not on a named volume: %q", vols)
	}
}

func TestComposeBillingd(t *testing.T) {
	t.Parallel()
	svcs := composeServices(t)

	tests := []struct {
		svc  string
		argv []string
	}{
		{"migrate", []string{"migrate", "up"}},
		{"billingd", []string{"serve"}},
	}
	for _, tt := range tests {
		t.Run(tt.svc, func(t *testing.T) {
			t.Parallel()
			svc := svcs[tt.svc]
			if got := stringList(t, mustGet(t, svc, "command"), "command"); !reflect.DeepEqual(got, tt.argv) {
				t.Errorf("command = %q, want %q", got, tt.argv)
			}
			if _, ok := lookup(svc, "build"); !ok {
				if _, ok := lookup(svc, "image"); !ok {
					t.Error("neither build nor image set")
				}
			}
			env := composeEnv(t, svc)
			for _, k := range []string{"BILLINGD_DATABASE_URL", "BILLINGD_ADMIN_TOKEN", "BILLINGD_ENCRYPTION_KEY"} {
				if env[k] == "" {
					t.Errorf("%s not set", k)
				}
			}
			// Secrets must fail fast when unset rather than default to a known value.
			for _, k := range []string{"BILLINGD_ADMIN_TOKEN", "BILLINGD_ENCRYPTION_KEY"} {
				if !strings.HasPrefix(env[k], "${"+k+":?") {
					t.Errorf("%s = %q, want ${%s:?message}", k, env[k], k)
				}
			}
		})
	}

	b := svcs["billingd"]
	if env := composeEnv(t, b); env["BILLINGD_MIGRATE"] != "false" {
		t.Errorf(`billingd BILLINGD_MIGRATE = %q, want "false"`, env["BILLINGD_MIGRATE"])
	}
	// Replicas behind the lb service: a fixed host port would let only one
	// of them start.
	if n := mustInt(t, b, "deploy", "replicas"); n < 2 {
		t.Errorf("billingd deploy.replicas = %d, want >= 2", n)
	}
	if ports, ok := lookup(b, "ports"); ok {
		t.Errorf("billingd publishes %v; with several replicas only the lb may", ports)
	}
	published := false
	for _, p := range stringList(t, mustGet(t, svcs["lb"], "ports"), "ports") {
		if strings.HasSuffix(p, ":"+strconv.Itoa(containerPort)) || strings.HasSuffix(p, ":"+strconv.Itoa(containerPort)+"/tcp") {
			published = true
		}
	}
	if !published {
		t.Errorf("lb does not publish port %d", containerPort)
	}
	// The distroless image has no /bin/sh: a shell healthcheck would always fail.
	if hc, ok := lookup(b, "healthcheck", "test"); ok {
		_, isString := hc.(string)
		if first, _ := lookup(hc, 0); isString || first == "CMD-SHELL" {
			t.Errorf("billingd healthcheck %v needs a shell, which the distroless image lacks", hc)
		}
	}
}

// ---------------------------------------------------------------------------
// Dockerfile

type instruction struct {
	cmd  string // upper-cased keyword
	args string
	line int
}

type stage struct {
	image, name string
	instrs      []instruction
}

// parseDockerfile splits a Dockerfile into stages of instructions, joining
// backslash continuations and dropping comments. It understands enough of
// the syntax for these checks, not all of it (no heredocs).
func parseDockerfile(t *testing.T, path string) []stage {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer f.Close()

	var (
		stages  []stage
		pending strings.Builder
		start   int
	)
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") || (line == "" && pending.Len() == 0) {
			continue
		}
		if pending.Len() == 0 {
			start = n
		}
		if cont, ok := strings.CutSuffix(line, `\`); ok {
			pending.WriteString(cont + " ")
			continue
		}
		pending.WriteString(line)
		full := pending.String()
		pending.Reset()

		kw, args, _ := strings.Cut(full, " ")
		in := instruction{cmd: strings.ToUpper(kw), args: strings.TrimSpace(args), line: start}
		if in.cmd == "FROM" {
			fields := strings.Fields(in.args)
			var st stage
			for i := 0; i < len(fields); i++ {
				switch {
				case strings.HasPrefix(fields[i], "--"):
				case strings.EqualFold(fields[i], "AS") && i+1 < len(fields):
					st.name = fields[i+1]
					i++
				case st.image == "":
					st.image = fields[i]
				}
			}
			stages = append(stages, st)
			continue
		}
		if len(stages) == 0 {
			if in.cmd != "ARG" {
				t.Fatalf("%s:%d: %s before FROM", path, start, in.cmd)
			}
			continue
		}
		stages[len(stages)-1].instrs = append(stages[len(stages)-1].instrs, in)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	if len(stages) == 0 {
		t.Fatalf("%s: no FROM", path)
	}
	return stages
}

func (s stage) find(cmd string) []instruction {
	var out []instruction
	for _, in := range s.instrs {
		if in.cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

func isRootUser(user string) bool {
	u, _, _ := strings.Cut(strings.TrimSpace(user), ":")
	return u == "" || u == "0" || u == "root"
}

var cgoDisabled = regexp.MustCompile(`(^|\s)CGO_ENABLED[= ]0(\s|$)`)

func TestDockerfile(t *testing.T) {
	t.Parallel()
	stages := parseDockerfile(t, "../Dockerfile")
	final := stages[len(stages)-1]

	t.Run("final stage is non-root", func(t *testing.T) {
		t.Parallel()
		users := final.find("USER")
		if len(users) > 0 {
			if u := users[len(users)-1]; isRootUser(u.args) {
				t.Errorf("line %d: USER %q runs as root", u.line, u.args)
			}
		} else if !strings.Contains(final.image, ":nonroot") {
			t.Errorf("final stage %q has no USER and is not a :nonroot image", final.image)
		}
	})

	t.Run("builds ./cmd/billingd statically", func(t *testing.T) {
		t.Parallel()
		var build *stage
		var run instruction
		for i := range stages[:len(stages)-1] {
			for _, in := range stages[i].find("RUN") {
				if strings.Contains(in.args, "go build") && strings.Contains(in.args, "./cmd/billingd") {
					build, run = &stages[i], in
				}
			}
		}
		if build == nil {
			t.Fatal("no build stage RUNs `go build ... ./cmd/billingd`")
		}
		cgoOff := cgoDisabled.MatchString(run.args)
		for _, env := range build.find("ENV") {
			cgoOff = cgoOff || cgoDisabled.MatchString(env.args)
		}
		if !cgoOff {
			t.Errorf("line %d: go build without CGO_ENABLED=0", run.line)
		}

		// Module download is cached in its own layer before the source copy.
		download, copyAll := -1, -1
		for i, in := range build.instrs {
			switch {
			case in.cmd == "RUN" && strings.Contains(in.args, "go mod download") && download < 0:
				download = i
			case in.cmd == "COPY" && strings.HasSuffix(in.args, ". .") && copyAll < 0:
				copyAll = i
			}
		}
		if download < 0 || copyAll < 0 || download > copyAll {
			t.Error("build stage must RUN `go mod download` before `COPY . .`")
		}

		// The final stage copies the binary out of that build stage.
		copied := false
		for _, in := range final.find("COPY") {
			if build.name != "" && strings.Contains(in.args, "--from="+build.name) && strings.HasSuffix(in.args, " /billingd") {
				copied = true
			}
		}
		if !copied {
			t.Errorf("final stage does not COPY --from=%s ... /billingd", build.name)
		}
	})

	t.Run("entrypoint and port", func(t *testing.T) {
		t.Parallel()
		checks := []struct{ cmd, want string }{
			{"ENTRYPOINT", `["/billingd"]`},
			{"CMD", `["serve"]`},
			{"EXPOSE", strconv.Itoa(containerPort)},
		}
		for _, c := range checks {
			ins := final.find(c.cmd)
			if len(ins) == 0 {
				t.Errorf("final stage has no %s", c.cmd)
				continue
			}
			if got := ins[len(ins)-1].args; got != c.want {
				t.Errorf("%s %s, want %s", c.cmd, got, c.want)
			}
		}
	})
}

// ---------------------------------------------------------------------------
// .dockerignore

type ignoreRule struct {
	re     *regexp.Regexp
	negate bool
}

// dockerignoreRules compiles .dockerignore patterns. Supported: *, ?, ** and
// ! negation; a pattern matching a directory also matches everything in it.
// Character classes are not supported (none are used).
func dockerignoreRules(t *testing.T, path string) []ignoreRule {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	var rules []ignoreRule
	for line := range strings.Lines(string(raw)) {
		p := strings.TrimSpace(line)
		if p == "" || strings.HasPrefix(p, "#") {
			continue
		}
		var r ignoreRule
		p, r.negate = strings.CutPrefix(p, "!")
		p = strings.TrimPrefix(filepath.ToSlash(filepath.Clean(strings.TrimSpace(p))), "/")

		var b strings.Builder
		b.WriteString("^")
		for i := 0; i < len(p); i++ {
			switch c := p[i]; {
			case c == '*' && strings.HasPrefix(p[i:], "**/"):
				b.WriteString("(.*/)?")
				i += 2
			case c == '*' && strings.HasPrefix(p[i:], "**"):
				b.WriteString(".*")
				i++
			case c == '*':
				b.WriteString("[^/]*")
			case c == '?':
				b.WriteString("[^/]")
			default:
				b.WriteString(regexp.QuoteMeta(string(c)))
			}
		}
		b.WriteString("(/.*)?$")
		r.re = regexp.MustCompile(b.String())
		rules = append(rules, r)
	}
	return rules
}

func ignored(rules []ignoreRule, path string) bool {
	out := false
	for _, r := range rules {
		if r.re.MatchString(path) {
			out = !r.negate
		}
	}
	return out
}

func TestDockerignore(t *testing.T) {
	t.Parallel()
	rules := dockerignoreRules(t, "../.dockerignore")
	tests := []struct {
		path    string
		ignored bool
	}{
		{".git/HEAD", true},
		{"deploy/compose.yaml", true},
		{"deploy/k8s/deployment.yaml", true},
		{"billingd.test", true},
		{"internal/providers/providers.test", true},
		{".env", true},
		// Everything the build and the embedded assets need must stay.
		{"go.mod", false},
		{"go.sum", false},
		{"cmd/billingd/main.go", false},
		{"internal/providers/provider.go", false},
		{"openapi.yaml", false},
		{"migrations/0001_init.up.sql", false},
		{"internal/db/migrations/0001_init.up.sql", false},
		{"docs/index.html", false},
		{"internal/docs/assets/app.js", false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			if got := ignored(rules, tt.path); got != tt.ignored {
				t.Errorf("ignored(%q) = %v, want %v", tt.path, got, tt.ignored)
			}
		})
	}
}
