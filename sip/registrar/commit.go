package registrar

import (
	"time"

	"pbx/store"
)

// commit queues a REGISTER's changes for the group commit and applies them
// to the cached registration state of the device, in that order and under
// the username's lock (h), so the cache follows the order of the commits.
//
// It returns the channel the commit's result arrives on when the answer
// must wait for it: a binding added, changed or removed is answered once it
// is persisted. When every change is a refresh (the same contact, route and
// parameters, a later expiry: BindingChange.Refresh) it returns nil and the
// 200 goes at once: a refresh lost in a crash leaves the binding with the
// expiry it had, still live, and the device refreshes it again. A failed
// commit drops the device's cached state (the next REGISTER reads the
// database) and, for refreshes, is logged.
func (r *Registrar) commit(h *held, da store.DeviceAuth, current []store.Binding, changes []store.BindingChange) (<-chan error, error) {
	var wait chan error
	for _, c := range changes {
		if !c.Refresh {
			wait = make(chan error, 1)
			break
		}
	}
	l, user, cached := h.lock, h.user, h.cache
	devID, tenID := da.Device.ID, da.Tenant.ID // not da: the closure would copy it to the heap
	if l != nil {
		l.pending.Add(1)
	}
	err := r.writer.enqueue(changes, func(err error) {
		if err != nil && cached {
			r.cache.drop(user)
		}
		if l != nil {
			l.pending.Add(-1)
		}
		if wait != nil {
			wait <- err
		} else if err != nil {
			r.log.Error("register: write refreshed bindings", "device_id", devID, "tenant_id", tenID, "error", err)
		}
	}, wait != nil)
	if err != nil {
		if l != nil {
			l.pending.Add(-1)
		}
		return nil, err
	}
	if cached {
		r.cache.put(user, h.gen, h.da, current)
	}
	return wait, nil
}

// isRefresh reports whether binding b, registered again at now, is a
// refresh of old: it reaches the device as old did, so only its Call-ID,
// CSeq and times are written, after the 200. A binding about to expire is
// written whole and before the 200 instead: the expiry sweep could remove
// it before a refresh's UPDATE, which would then find no row.
func isRefresh(old, b store.Binding, now time.Time) bool {
	return old.ExpiresAt.Sub(now) > refreshMargin && sameRoute(old, b)
}

// refreshMargin is far longer than a refresh waits for its commit
// (refreshDelay, and the commit).
const refreshMargin = 10 * time.Second

// sameRoute reports whether binding b reaches the device as old did.
func sameRoute(old, b store.Binding) bool {
	return old.Source == b.Source && old.Transport == b.Transport && old.UserAgent == b.UserAgent && old.Path == b.Path &&
		old.Instance == b.Instance && old.Push == b.Push && old.Location == b.Location
}
