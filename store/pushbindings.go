package store

import "context"

// DeletePushBinding removes the bindings that carry a push token the push
// service said is no longer valid (APNs 410 Unregistered, 400
// BadDeviceToken; FCM UNREGISTERED): a device that is not woken any more
// must not be rung in vain. It reports how many were removed.
func (s *Store) DeletePushBinding(ctx context.Context, deviceID, provider, prid string) (int64, error) {
	defer s.registrationsChanged()
	res, err := s.w.ExecContext(ctx, `DELETE FROM registrations WHERE device_id = ? AND pn_provider = ? AND pn_prid = ?`, deviceID, provider, prid)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
