package api

import (
	"context"

	"pbx/store"
)

// DeviceModels says what the provisioning catalogue knows of a model: what
// a DECT handset or an adapter port may record.
type DeviceModels interface {
	// Slots reports whether a model is a DECT base (its handsets are
	// devices of their own) or an analogue adapter (its ports are).
	Slots(model string) (dect, ports bool)
	// HandsetFits reports whether a handset model registers to a base model.
	HandsetFits(handset, base string) bool
}

// profileFields are the provisioning fields of a new device.
type profileFields struct {
	HandsetModel string `json:"handset_model,omitempty" doc:"DECT handset (a device of a DECT base, or the base's own first handset): its model, e.g. R700H, SL800H, W73H"`
	Fax          bool   `json:"fax,omitempty" doc:"adapter port (a Grandstream HT80x, or a device of one): a fax machine is plugged in (T.38 off, G.711 pass-through, echo cancellation off)"`
}

// carriesSlots reports whether other devices may hang off base: a Gigaset
// base, or a model the catalogue knows as a DECT base or an adapter.
func (s *server) carriesSlots(base store.Device) bool {
	if base.MAC == "" {
		return false
	}
	if base.Kind == "gigaset" {
		return true
	}
	if s.models == nil {
		return false
	}
	dect, ports := s.models.Slots(base.Model)
	return dect || ports
}

// checkProfile validates the provisioning fields of a new device d; base
// is the device it hangs off, or d itself when it has none.
func (s *server) checkProfile(fe *fieldErrors, in profileFields, base store.Device) store.DeviceProfile {
	p := store.DeviceProfile{HandsetModel: fe.text("handset_model", in.HandsetModel, false, 32), Fax: in.Fax}
	var dect, ports bool
	if s.models != nil {
		dect, ports = s.models.Slots(base.Model)
	}
	if p.HandsetModel != "" {
		switch {
		case !dect:
			fe.add("handset_model", "only a DECT handset has a handset model; model %q is not a DECT base", base.Model)
		case !s.models.HandsetFits(p.HandsetModel, base.Model):
			fe.add("handset_model", "handset %q does not register to a %s", p.HandsetModel, base.Model)
		}
	}
	if p.Fax && !ports {
		fe.add("fax", "only an adapter port serves a fax; model %q is not an adapter", base.Model)
	}
	return p
}

// saveProfile records a new device's profile when it has one.
func (s *server) saveProfile(ctx context.Context, tenantID, deviceID string, p store.DeviceProfile) error {
	if p == (store.DeviceProfile{}) {
		return nil
	}
	p.DeviceID = deviceID
	return s.store.SetDeviceProfile(ctx, tenantID, p)
}

// withProfile adds a device's profile to its JSON.
func withProfile(j deviceJSON, p store.DeviceProfile) deviceJSON {
	j.HandsetModel, j.Fax = p.HandsetModel, p.Fax
	return j
}
