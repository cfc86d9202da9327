package sipserver

import "strings"

// LogURI is a Request-URI or Contact fit for the log: a device woken by
// push (RFC 8599) carries its push token in pn-prid, a bearer of its own
// (with the app's credentials it wakes the phone), so only its ends show.
func LogURI(uri string) string {
	const param = ";pn-prid="
	i := strings.Index(strings.ToLower(uri), param)
	if i < 0 {
		return uri
	}
	start := i + len(param)
	end := strings.IndexAny(uri[start:], ";?>")
	if end < 0 {
		end = len(uri) - start
	}
	tok := uri[start : start+end]
	masked := "****"
	if len(tok) >= 16 {
		masked = tok[:4] + "****" + tok[len(tok)-4:]
	}
	return uri[:start] + masked + LogURI(uri[start+end:])
}
