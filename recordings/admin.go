package recordings

import (
	"context"

	"pbx/store"
)

// AdminStore is what the administration methods read and write besides
// Store.
type AdminStore interface {
	RecordingPolicy(ctx context.Context, tenantID string, k store.PolicyKey) (string, error)
	SetRecordingPolicy(ctx context.Context, tenantID string, k store.PolicyKey, mode string) error
	SetRecordingSettings(ctx context.Context, r store.RecordingSettings, change store.SecretChange) error
	RecordingAuditLog(ctx context.Context, tenantID, recordingID string) ([]store.RecordingAudit, error)
}

// Admin serves the REST API's recording routes: listings, policies,
// settings and the audit, on top of a Library's downloads and deletes.
type Admin struct {
	*Library
	Admin AdminStore
}

// List lists a tenant's recordings.
func (a *Admin) List(ctx context.Context, tenantID string, f store.RecordingFilter) ([]store.Recording, error) {
	return a.Store.Recordings(ctx, tenantID, f)
}

// Get returns a recording of a tenant.
func (a *Admin) Get(ctx context.Context, tenantID, id string) (store.Recording, error) {
	return a.Store.Recording(ctx, tenantID, id)
}

// Audit lists a tenant's audit entries (of one recording if id is set).
func (a *Admin) Audit(ctx context.Context, tenantID, id string) ([]store.RecordingAudit, error) {
	return a.Admin.RecordingAuditLog(ctx, tenantID, id)
}

// Policy returns the recording policy of a user, number or hunt group.
func (a *Admin) Policy(ctx context.Context, tenantID string, k store.PolicyKey) (string, error) {
	return a.Admin.RecordingPolicy(ctx, tenantID, k)
}

// SetPolicy sets it.
func (a *Admin) SetPolicy(ctx context.Context, tenantID string, k store.PolicyKey, mode string) error {
	return a.Admin.SetRecordingPolicy(ctx, tenantID, k, mode)
}

// Settings returns a tenant's recording settings.
func (a *Admin) Settings(ctx context.Context, tenantID string) (store.RecordingSettings, error) {
	return a.Store.RecordingSettings(ctx, tenantID)
}

// SetSettings stores them and changes the export's credentials.
func (a *Admin) SetSettings(ctx context.Context, st store.RecordingSettings, change store.SecretChange) error {
	return a.Admin.SetRecordingSettings(ctx, st, change)
}
