package routes

import (
	"errors"
	"strconv"
	"strings"
)

// v1More holds the labels few services use (Traefik v1.7's backend
// options, error pages, rate limits, forward auth, client certificates),
// apart from v1Frontend so that a frontend without them stays small: it
// is allocated by the first of them.
//
// A bad value of one of these labels drops that label with a warning
// (soft), as Traefik v1.7's label getters fell back to their defaults
// (provider/label/label.go, GetIntValue & co.), except forward auth's,
// which guards access: it leaves the service out rather than publish it
// unprotected.
type v1More struct {
	circuitBreaker   v1Value[string]
	maxConnAmount    v1Value[int64]
	maxConnExtractor v1Value[sourceCriterion]
	buffering        []v1Value[func(*buffering)]
	healthCheck      []v1Value[func(*healthCheck)]
	flushInterval    v1Value[string]
	passTLSCert      v1Value[bool]
	clientCert       []v1Value[func(*passTLSClientCert)]
	errorPages       map[string]*v1ErrorPage // by page name
	rateExtractor    v1Value[sourceCriterion]
	rateSets         map[string]*v1RateSet // by rate set name
	forwardAddress   v1Value[string]
	forward          []v1Value[func(*forwardAuth)]
	forwardCAOpt     v1Value[bool]
	useXFF           v1Value[bool]
	sslHost          v1Value[string]
	sslForceHost     v1Value[bool]
}

// v1ErrorPage is one traefik.frontend.errors.<name>.
type v1ErrorPage struct {
	status         v1Value[[]string]
	backend, query v1Value[string]
}

// v1RateSet is one traefik.frontend.rateLimit.rateSet.<name>.
type v1RateSet struct {
	period         v1Value[string]
	average, burst v1Value[int64]
}

func (f *v1Frontend) more() *v1More {
	if f.x == nil {
		f.x = &v1More{}
	}
	return f.x
}

// soft makes a label problem cost the label only.
func soft(err error) error {
	var le *labelError
	if errors.As(err, &le) {
		c := *le
		c.dropOnly = true
		return &c
	}
	return err
}

// groupName is <name> of traefik[.<segment>].frontend.errors.<name>.<option>
// or …rateSet.<name>.<option>: the label's next-to-last part, lower case.
func groupName(label string) string {
	parts := strings.Split(label, ".")
	return strings.ToLower(parts[len(parts)-2])
}

// Generic handlers of v1More fields; their problems are soft.

func moreString(field func(*v1More) *v1Value[string]) func(*v1Frontend, string, string) {
	return func(f *v1Frontend, label, v string) {
		val := v1Value[string]{label: label, val: strings.TrimSpace(v)}
		if val.val == "" {
			val.err = errDrop(label, "is empty")
		}
		*field(f.more()) = val
	}
}

func moreBool(field func(*v1More) *v1Value[bool]) func(*v1Frontend, string, string) {
	return func(f *v1Frontend, label, v string) {
		b, err := convert(kindBool, v)
		if err != nil {
			*field(f.more()) = v1Value[bool]{label: label, err: errDrop(label, "%v", err)}
			return
		}
		*field(f.more()) = v1Value[bool]{label: label, val: b.(bool)}
	}
}

// moreSetting decodes a value of kind k into one setting of a list
// (buffering, health check, client certificate, forward auth options);
// hard problems leave the service out.
func moreSetting[T any](k kind, hard bool, list func(*v1More) *[]v1Value[func(*T)], set func(*T, any)) func(*v1Frontend, string, string) {
	return func(f *v1Frontend, label, v string) {
		l := list(f.more())
		val, err := convert(k, v)
		if err == nil && k == kindString && strings.TrimSpace(v) == "" {
			err = errors.New("is empty")
		}
		if err != nil {
			e := errLabel(label, "%v", err)
			if !hard {
				e = soft(e)
			}
			*l = append(*l, v1Value[func(*T)]{label: label, err: e})
			return
		}
		if s, ok := val.(string); ok {
			val = strings.TrimSpace(s)
		}
		*l = append(*l, v1Value[func(*T)]{label: label, val: func(t *T) { set(t, val) }})
	}
}

func bufferingOption(k kind, set func(*buffering, any)) func(*v1Frontend, string, string) {
	return moreSetting(k, false, func(m *v1More) *[]v1Value[func(*buffering)] { return &m.buffering }, set)
}

func healthOption(k kind, set func(*healthCheck, any)) func(*v1Frontend, string, string) {
	return moreSetting(k, false, func(m *v1More) *[]v1Value[func(*healthCheck)] { return &m.healthCheck }, set)
}

func clientCertOption(set func(*passTLSClientCert, optional[bool])) func(*v1Frontend, string, string) {
	return moreSetting(kindBool, false, func(m *v1More) *[]v1Value[func(*passTLSClientCert)] { return &m.clientCert },
		func(c *passTLSClientCert, v any) { set(c, some(v.(bool))) })
}

func forwardOption(k kind, set func(*forwardAuth, any)) func(*v1Frontend, string, string) {
	return moreSetting(k, true, func(m *v1More) *[]v1Value[func(*forwardAuth)] { return &m.forward }, set)
}

// Handlers of one label each.

// decodePriority: Traefik v1.7 read a priority that is not a whole number
// as 0, the default (label.GetFuncInt → GetIntValue): the label is dropped
// with a warning, and the router keeps the default priority.
func decodePriority(f *v1Frontend, label, v string) {
	n, err := convert(kindInt, v)
	if err != nil {
		f.priority = v1Value[int64]{label: label, err: errDrop(label, "%v: Traefik v1.7 used the default priority, and so does rancher-traefik", err)}
		return
	}
	f.priority = v1Value[int64]{label: label, val: n.(int64)}
}

// decodeExtractor reads a v1 extractorFunc (Traefik v1.7
// middlewares/extractor.go: client.ip, request.host,
// request.header.<Name>) into what a v3 limit counts by.
func decodeExtractor(field func(*v1More) *v1Value[sourceCriterion]) func(*v1Frontend, string, string) {
	return func(f *v1Frontend, label, v string) {
		val := v1Value[sourceCriterion]{label: label}
		s := strings.TrimSpace(v)
		switch {
		case strings.EqualFold(s, "client.ip"):
			val.val.remoteAddr = true
		case strings.EqualFold(s, "request.host"):
			val.val.requestHost = true
		case len(s) > len("request.header.") && strings.EqualFold(s[:len("request.header.")], "request.header."):
			val.val.header = s[len("request.header."):]
		default:
			val.err = errDrop(label, "is not client.ip, request.host or request.header.<Name>")
		}
		*field(f.more()) = val
	}
}

func decodeMaxConnAmount(f *v1Frontend, label, v string) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	val := v1Value[int64]{label: label, val: n}
	if err != nil || n < 1 {
		val.err = errDrop(label, "the value is not a whole number ≥ 1")
	}
	f.more().maxConnAmount = val
}

func decodeFlushInterval(f *v1Frontend, label, v string) {
	d, err := convert(kindDuration, v)
	if err != nil {
		f.more().flushInterval = v1Value[string]{label: label, err: errDrop(label, "%v", err)}
		return
	}
	f.more().flushInterval = v1Value[string]{label: label, val: d.(string)}
}

// errorPage returns the page of the label's <name>.
func (m *v1More) errorPage(label string) *v1ErrorPage {
	if m.errorPages == nil {
		m.errorPages = map[string]*v1ErrorPage{}
	}
	name := groupName(label)
	if m.errorPages[name] == nil {
		m.errorPages[name] = &v1ErrorPage{}
	}
	return m.errorPages[name]
}

func decodeErrorStatus(f *v1Frontend, label, v string) {
	list, _ := convert(kindList, v)
	val := v1Value[[]string]{label: label, val: list.([]string)}
	if len(val.val) == 0 {
		val.err = errDrop(label, "names no status")
	}
	for _, s := range val.val {
		if !validStatusRange(s) {
			val.err = errDrop(label, "is not a list of statuses and ranges (404, 500-599)")
			break
		}
	}
	f.more().errorPage(label).status = val
}

func decodeErrorBackend(f *v1Frontend, label, v string) {
	val := v1Value[string]{label: label, val: strings.TrimSpace(v)}
	if val.val == "" {
		val.err = errDrop(label, "is empty")
	}
	f.more().errorPage(label).backend = val
}

func decodeErrorQuery(f *v1Frontend, label, v string) {
	val := v1Value[string]{label: label, val: strings.TrimSpace(v)}
	if !strings.HasPrefix(val.val, "/") {
		val.err = errDrop(label, "does not start with /")
	}
	f.more().errorPage(label).query = val
}

// validStatusRange reports whether s is a status (404) or a range
// (500-599) of statuses 100-599.
func validStatusRange(s string) bool {
	lo, hi, isRange := strings.Cut(s, "-")
	a, err := strconv.Atoi(lo)
	if err != nil || a < 100 || a > 599 {
		return false
	}
	if !isRange {
		return true
	}
	b, err := strconv.Atoi(hi)
	return err == nil && b >= a && b <= 599
}

// rateSet returns the rate set of the label's <name>.
func (m *v1More) rateSet(label string) *v1RateSet {
	if m.rateSets == nil {
		m.rateSets = map[string]*v1RateSet{}
	}
	name := groupName(label)
	if m.rateSets[name] == nil {
		m.rateSets[name] = &v1RateSet{}
	}
	return m.rateSets[name]
}

func decodeRatePeriod(f *v1Frontend, label, v string) {
	d, err := convert(kindDuration, v)
	val := v1Value[string]{label: label}
	if err != nil {
		val.err = errDrop(label, "%v", err)
	} else {
		val.val = d.(string)
	}
	f.more().rateSet(label).period = val
}

func decodeRateInt(field func(*v1RateSet) *v1Value[int64]) func(*v1Frontend, string, string) {
	return func(f *v1Frontend, label, v string) {
		n, err := convert(kindUint, v)
		val := v1Value[int64]{label: label}
		if err != nil {
			val.err = errDrop(label, "%v", err)
		} else {
			val.val = n.(int64)
		}
		*field(f.more().rateSet(label)) = val
	}
}

// decodeForwardAddress: the authentication server's URL, http or https.
func decodeForwardAddress(f *v1Frontend, label, v string) {
	val := v1Value[string]{label: label, val: strings.TrimSpace(v)}
	if !strings.HasPrefix(val.val, "http://") && !strings.HasPrefix(val.val, "https://") || len(val.val) <= len("https://") {
		val.err = errLabel(label, "is not an http:// or https:// URL")
	}
	f.more().forwardAddress = val
}

// decodeSSLProxyHeaders: Name:value||Name:value, as the custom headers.
var decodeSSLProxyHeaders = headerPairs(func(h *headers, m map[string]any) { h.sslProxyHeaders = some(m) })

// decodeHealthScheme: the health check's scheme, as the servers'.
func decodeHealthScheme(f *v1Frontend, label, v string) {
	m := f.more()
	switch s := strings.ToLower(strings.TrimSpace(v)); s {
	case "http", "https", "h2c":
		m.healthCheck = append(m.healthCheck, v1Value[func(*healthCheck)]{label: label, val: func(h *healthCheck) { h.scheme = some(s) }})
	default:
		m.healthCheck = append(m.healthCheck, v1Value[func(*healthCheck)]{label: label, err: errDrop(label, "is not http, https or h2c")})
	}
}

// decodeHealthHeaders: Name:value||Name:value, as the custom headers.
func decodeHealthHeaders(f *v1Frontend, label, v string) {
	var h headers
	f0 := v1Frontend{}
	headerPairs(func(h *headers, m map[string]any) { h.customRequestHeaders = some(m) })(&f0, label, v)
	m := f.more()
	if hv := f0.headers[0]; hv.err != nil {
		m.healthCheck = append(m.healthCheck, v1Value[func(*healthCheck)]{label: label, err: soft(hv.err)})
	} else {
		hv.val(&h)
		pairs := h.customRequestHeaders.val
		m.healthCheck = append(m.healthCheck, v1Value[func(*healthCheck)]{label: label, val: func(hc *healthCheck) { hc.headers = some(pairs) }})
	}
}

// decodeCircuitBreaker: the expression, checked against v3's grammar.
func decodeCircuitBreaker(f *v1Frontend, label, v string) {
	val := v1Value[string]{label: label, val: strings.TrimSpace(v)}
	if err := checkCBExpression(val.val); err != nil {
		val.err = errDrop(label, "%v", err)
	}
	f.more().circuitBreaker = val
}

// decodeUseXFF: whiteList.useXForwardedFor guards access, so a bad value
// leaves the service out.
func decodeUseXFF(f *v1Frontend, label, v string) {
	b, err := convert(kindBool, v)
	if err != nil {
		f.more().useXFF = v1Value[bool]{label: label, err: errLabel(label, "%v", err)}
		return
	}
	f.more().useXFF = v1Value[bool]{label: label, val: b.(bool)}
}
