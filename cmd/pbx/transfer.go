package main

import (
	"pbx/callctl"
	"pbx/sip/b2bua"
)

// routedTransfer is a b2bua transfer as the dialplan sees it: a
// callctl.Transfer, whose Call is the callctl.Call that *b2bua.Call is.
// (b2bua.Transfer.Call returns the concrete call; once it returns the
// interface, this goes away.)
type routedTransfer struct{ *b2bua.Transfer }

var _ callctl.Transfer = routedTransfer{}

func (t routedTransfer) Call() callctl.Call { return t.Transfer.Call() }
