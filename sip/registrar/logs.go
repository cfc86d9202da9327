package registrar

import (
	"context"
	"log/slog"

	"pbx/sip/sipserver"
	"pbx/store"
)

// logChanges writes one line per change of the device's bindings that an
// operator wants to see: a new contact and a removed one at INFO, a
// refresh (the steady state of every phone) at DEBUG only.
func (r *Registrar) logChanges(ctx context.Context, da *store.DeviceAuth, changes []store.BindingChange, fresh []store.Binding, ua string) {
	isFresh := func(contact string) bool {
		for _, f := range fresh {
			if f.Contact == contact {
				return true
			}
		}
		return false
	}
	for _, c := range changes {
		msg, level := "registration refreshed", slog.LevelDebug
		switch {
		case c.Remove:
			msg, level = "registration removed", slog.LevelInfo
		case isFresh(c.Contact):
			msg, level = "registration added", slog.LevelInfo
		}
		if !r.log.Enabled(ctx, level) {
			continue
		}
		attrs := []slog.Attr{slog.String("device", da.Device.SIPUsername), slog.String("device_id", da.Device.ID),
			slog.String("tenant_id", da.Tenant.ID), slog.String("contact", sipserver.LogURI(c.Contact)), slog.String("source", c.Source),
			slog.String("transport", c.Transport), slog.String("user_agent", ua)}
		if !c.Remove {
			attrs = append(attrs, slog.Time("expires_at", c.ExpiresAt))
		}
		r.log.LogAttrs(ctx, level, msg, attrs...)
	}
}
