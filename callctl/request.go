package callctl

// Request is what a program may read of the INVITE that made an inbound
// leg beyond the caller's identity: the headers and body parts a feature
// needs (a location conveyed by value, RFC 6442, for an emergency call).
// The inbound legs of a routed call implement it; a program asserts it:
//
//	if r, ok := call.Inbound().(callctl.Request); ok { ... }
type Request interface {
	// RequestHeader returns the values of the INVITE's headers called
	// name (any case), in order; nil when it has none.
	RequestHeader(name string) []string
	// RequestParts returns the INVITE's body: each part of a multipart
	// body (its headers but Content-Type in Headers), or the body as one
	// part; nil when it had no body or one that could not be read.
	RequestParts() []BodyPart
}
