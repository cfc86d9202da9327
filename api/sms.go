package api

import (
	"context"
	"errors"
	"net/http"

	"pbx/features/messages"
)

// SMS sends a tenant's SMS (cmd/pbx: the messages feature). Its errors:
// a messages.InvalidError names bad fields (422), messages.ErrRateLimited
// (429), messages.ErrNoTrunk (503); anything else is the carrier's
// failure (502).
type SMS interface {
	Send(ctx context.Context, tenantID, from, to, text string) (messages.Receipt, error)
}

type smsRequest struct {
	From string `json:"from" doc:"one of the tenant's numbers, E.164 or national"`
	To   string `json:"to" doc:"a mobile number, E.164 or national"`
	Text string `json:"text" doc:"at most 10 segments: 160 GSM-7 characters for one, 153 each beyond; 70 and 67 when a character needs UCS-2"`
}

type smsJSON struct {
	From     string `json:"from" doc:"E.164"`
	To       string `json:"to" doc:"E.164"`
	Encoding string `json:"encoding" enum:"GSM-7,UCS-2"`
	Segments int    `json:"segments"`
}

func (s *server) sendSMS(c *call) error {
	if s.sms == nil {
		return httpProblem(http.StatusServiceUnavailable, "SMS are not configured on this server")
	}
	var in smsRequest
	if err := c.decode(&in); err != nil {
		return err
	}
	r, err := s.sms.Send(c.ctx(), c.tenant.ID, in.From, in.To, in.Text)
	var inv messages.InvalidError
	switch {
	case errors.As(err, &inv):
		var fe fieldErrors
		for _, f := range inv {
			fe.add(f.Field, "%s", f.Problem)
		}
		return fe.err()
	case errors.Is(err, messages.ErrRateLimited):
		return httpProblem(http.StatusTooManyRequests, "the tenant sent too many SMS for now; try again later")
	case errors.Is(err, messages.ErrNoTrunk):
		return httpProblem(http.StatusServiceUnavailable, "no carrier trunk is configured")
	case err != nil:
		s.log.Warn("sms not sent", "tenant_id", c.tenant.ID, "error", err)
		return httpProblem(http.StatusBadGateway, "the carrier did not accept the SMS")
	}
	return c.reply(http.StatusAccepted, smsJSON{From: r.From, To: r.To, Encoding: r.Encoding, Segments: r.Segments})
}
