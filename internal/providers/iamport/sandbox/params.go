package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// maxBody bounds a request body; Iamport requests are small.
const maxBody = 1 << 20

// params is a request's parameters, whatever their encoding: a JSON object
// body, or an urlencoded body (with PHP/qs bracket names for arrays and
// objects), plus the query string.
type params struct {
	obj    map[string]any
	values url.Values
}

// readParams reads JSON or urlencoded bodies, as SPEC declares both for
// every operation. A body without a Content-Type is sniffed.
func readParams(r *http.Request) (params, error) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return params{}, err
	}
	if len(raw) > maxBody {
		return params{}, errors.New("request body too large")
	}
	p := params{values: r.URL.Query()}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return p, nil
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/json" || (ct != "application/x-www-form-urlencoded" && raw[0] == '{') {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&p.obj); err != nil {
			return params{}, fmt.Errorf("JSON body: %w", err)
		}
		return p, nil
	}
	form, err := url.ParseQuery(string(raw))
	if err != nil {
		return params{}, fmt.Errorf("form body: %w", err)
	}
	for k, vs := range form {
		p.values[k] = append(vs, p.values[k]...)
	}
	return p, nil
}

func (p params) get(k string) (any, bool) {
	if v, ok := p.obj[k]; ok && v != nil {
		return v, true
	}
	if vs, ok := p.values[k]; ok && len(vs) > 0 {
		return vs[0], true
	}
	return nil, false
}

// str returns a parameter as text ("" when absent or null).
func (p params) str(k string) string {
	v, _ := p.get(k)
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

func (p params) bool(k string) bool {
	b, _ := strconv.ParseBool(p.str(k))
	return b
}

// int returns a whole-number parameter; present reports whether it was
// given at all. A fractional or non-numeric value is an error: KRW has no
// minor unit.
func (p params) int(k string) (n int64, present bool, err error) {
	s := p.str(k)
	if s == "" {
		return 0, false, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, true, fmt.Errorf("%s must be a whole number", k)
	}
	return int64(f), true, nil
}

// list returns an array parameter: a JSON array (or a single string), or
// repeated form values named k[] or k.
func (p params) list(k string) []string {
	if v, ok := p.obj[k]; ok {
		switch v := v.(type) {
		case string:
			return []string{v}
		case []any:
			out := make([]string, 0, len(v))
			for _, e := range v {
				if s, ok := e.(string); ok {
					out = append(out, s)
				}
			}
			return out
		}
		return nil
	}
	if vs := p.values[k+"[]"]; len(vs) > 0 {
		return vs
	}
	return p.values[k]
}

var formObjectKey = regexp.MustCompile(`^([a-z_]+)\[(\d+)\]\[([a-z_0-9]+)\]$`)

// objects returns an array-of-objects parameter: a JSON array of objects, or
// form fields named k[0][field], k[1][field] … in index order.
func (p params) objects(k string) []params {
	if v, ok := p.obj[k].([]any); ok {
		out := make([]params, 0, len(v))
		for _, e := range v {
			if m, ok := e.(map[string]any); ok {
				out = append(out, params{obj: m})
			}
		}
		return out
	}
	byIndex := map[int]url.Values{}
	for name, vs := range p.values {
		m := formObjectKey.FindStringSubmatch(name)
		if m == nil || m[1] != k {
			continue
		}
		i, _ := strconv.Atoi(m[2])
		if byIndex[i] == nil {
			byIndex[i] = url.Values{}
		}
		byIndex[i][m[3]] = vs
	}
	idx := make([]int, 0, len(byIndex))
	for i := range byIndex {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	out := make([]params, len(idx))
	for j, i := range idx {
		out[j] = params{values: byIndex[i]}
	}
	return out
}

// digits strips the separators people put in card numbers.
func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return -1
		}
		return r
	}, s)
}
