package api

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/go-chi/chi/v5"

	"github.com/billingd/billingd"
)

// The contract test: every request the API tests make, and every response
// they get, is validated against openapi.yaml, so the document cannot drift
// from the code in either direction.

var (
	specOnce   sync.Once
	specRouter routers.Router
	specDoc    *openapi3.T
	specErr    error
)

func loadSpec(t testing.TB) (*openapi3.T, routers.Router) {
	t.Helper()
	specOnce.Do(func() {
		openapi3.EnableSchemaFormatValidation()
		loader := openapi3.NewLoader()
		specDoc, specErr = loader.LoadFromData(billingd.OpenAPI)
		if specErr != nil {
			return
		}
		if specErr = specDoc.Validate(context.Background()); specErr != nil {
			return
		}
		specDoc.Servers = nil // match on path only, whatever the test server's host
		specRouter, specErr = gorillamux.NewRouter(specDoc)
	})
	if specErr != nil {
		t.Fatalf("openapi.yaml: %v", specErr)
	}
	return specDoc, specRouter
}

// outsideContract lists paths that are not part of the JSON API.
func outsideContract(path string) bool {
	return path == "/docs" || strings.HasPrefix(path, "/docs/") || strings.HasPrefix(path, "/sandbox/")
}

// contractChecker wraps a transport so that each exchange is validated.
// Requests are validated when billingd accepted them (2xx): the tests send
// malformed requests on purpose, and those must be refused, not described.
// Responses are always validated, errors included, and their status must be
// documented for the operation.
func contractChecker(t testing.TB, next http.RoundTripper) http.RoundTripper {
	_, router := loadSpec(t)
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		var reqBody []byte
		if req.Body != nil {
			reqBody, _ = io.ReadAll(req.Body)
			req.Body = io.NopCloser(bytes.NewReader(reqBody))
		}
		resp, err := next.RoundTrip(req)
		if err != nil || outsideContract(req.URL.Path) || req.Method == http.MethodOptions {
			return resp, err
		}
		respBody, _ := io.ReadAll(resp.Body)
		resp.Body = io.NopCloser(bytes.NewReader(respBody))

		check := req.Clone(req.Context())
		check.Body = io.NopCloser(bytes.NewReader(reqBody))
		route, params, routeErr := router.FindRoute(check)
		if routeErr != nil {
			if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed {
				return resp, nil // an unknown route, refused as it should be
			}
			t.Errorf("contract: %s %s answered %d but is not in openapi.yaml", req.Method, req.URL.Path, resp.StatusCode)
			return resp, nil
		}
		in := &openapi3filter.RequestValidationInput{
			Request: check, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true},
		}
		if resp.StatusCode < 300 {
			if err := openapi3filter.ValidateRequest(req.Context(), in); err != nil {
				t.Errorf("contract: request %s %s accepted with %d but violates openapi.yaml: %v", req.Method, req.URL.Path, resp.StatusCode, err)
			}
		}
		out := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
			Body:    io.NopCloser(bytes.NewReader(respBody)),
			Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
		}
		if err := openapi3filter.ValidateResponse(req.Context(), out); err != nil {
			t.Errorf("contract: response %d to %s %s violates openapi.yaml: %v\nbody: %s", resp.StatusCode, req.Method, req.URL.Path, err, respBody)
		}
		return resp, nil
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestEveryRouteIsDocumented walks the router: a route missing from
// openapi.yaml, or an operation in it that no route serves, fails.
func TestEveryRouteIsDocumented(t *testing.T) {
	t.Parallel()
	doc, _ := loadSpec(t)
	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if method != http.MethodOptions {
				documented[method+" "+path] = true
			}
		}
	}
	srv := New(Options{AdminToken: testAdminToken, MaxBodyBytes: 1 << 20})
	served := map[string]bool{}
	err := chi.Walk(srv.handler.(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		route = strings.TrimSuffix(route, "/")
		// OPTIONS routes answer CORS preflights, a transport detail.
		if outsideContract(route) || route == "" || method == http.MethodOptions {
			return nil
		}
		served[method+" "+route] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for op := range served {
		if !documented[op] {
			t.Errorf("%s is served but not in openapi.yaml", op)
		}
	}
	for op := range documented {
		if !served[op] {
			t.Errorf("%s is in openapi.yaml but not served", op)
		}
	}
}

func TestOpenAPIAndDocsAreServed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	spec := b.do(t, request{method: "GET", path: "/openapi.yaml"})
	requireStatus(t, spec, http.StatusOK)
	if !bytes.Equal(spec.raw, billingd.OpenAPI) {
		t.Fatal("/openapi.yaml is not the committed document")
	}
	docs := b.do(t, request{method: "GET", path: "/docs/"})
	requireStatus(t, docs, http.StatusOK)
	if !bytes.Contains(docs.raw, []byte("swagger-ui")) || !bytes.Contains(docs.raw, []byte("/openapi.yaml")) {
		t.Fatalf("/docs/ does not look like Swagger UI for /openapi.yaml: %.300s", docs.raw)
	}
	// The UI's assets come from the binary, not a CDN.
	if bytes.Contains(docs.raw, []byte("cdn.")) || bytes.Contains(docs.raw, []byte("unpkg.com")) {
		t.Fatal("/docs/ loads assets from a CDN")
	}
}
