package api

import (
	"strings"

	"golang.org/x/crypto/ssh"

	"pbx/store"
)

type recordingExportSettingsJSON struct {
	Enabled     bool   `json:"enabled"`
	Host        string `json:"host"`
	Port        int    `json:"port"`
	Username    string `json:"username"`
	HostKey     string `json:"host_key" doc:"the server's public key in authorized_keys form (ssh-ed25519 AAAA...): no other key is accepted"`
	Dir         string `json:"dir" doc:"remote directory"`
	DeleteLocal bool   `json:"delete_local" doc:"delete our copy once the remote one has the same size and SHA-256"`
	HasPassword bool   `json:"has_password"`
	HasKey      bool   `json:"has_private_key"`
}

type recordingSettingsJSON struct {
	RetentionDays int                         `json:"retention_days" doc:"1 to 90: recordings are deleted this many days after they were made"`
	Announce      bool                        `json:"announce" doc:"both parties hear that the call is recorded when recording starts"`
	ToggleCode    string                      `json:"toggle_code" doc:"DTMF code that starts and stops on-demand recording"`
	Export        recordingExportSettingsJSON `json:"export"`
}

type recordingExportRequest struct {
	Enabled     *bool   `json:"enabled,omitempty"`
	Host        *string `json:"host,omitempty"`
	Port        *int    `json:"port,omitempty"`
	Username    *string `json:"username,omitempty"`
	Password    *string `json:"password,omitempty" doc:"write-only, stored encrypted; absent keeps it, empty removes it"`
	PrivateKey  *string `json:"private_key,omitempty" doc:"write-only unencrypted PEM, stored encrypted; absent keeps it, empty removes it"`
	HostKey     *string `json:"host_key,omitempty"`
	Dir         *string `json:"dir,omitempty"`
	DeleteLocal *bool   `json:"delete_local,omitempty"`
}

type recordingSettingsRequest struct {
	RetentionDays *int                    `json:"retention_days,omitempty" doc:"1 to 90"`
	Announce      *bool                   `json:"announce,omitempty"`
	ToggleCode    *string                 `json:"toggle_code,omitempty" doc:"1 to 4 of 0-9 * #"`
	Export        *recordingExportRequest `json:"export,omitempty"`
}

func toRecordingSettingsJSON(st store.RecordingSettings) recordingSettingsJSON {
	e := st.Export
	return recordingSettingsJSON{RetentionDays: st.RetentionDays, Announce: st.Announce, ToggleCode: st.ToggleCode,
		Export: recordingExportSettingsJSON{Enabled: e.Enabled, Host: e.Host, Port: e.Port, Username: e.Username, HostKey: e.HostKey,
			Dir: e.Dir, DeleteLocal: e.DeleteLocal, HasPassword: e.HasPassword, HasKey: e.HasKey}}
}

func (s *server) getRecordingSettings(c *call) error {
	rs, err := s.recs()
	if err != nil {
		return err
	}
	st, err := rs.Settings(c.ctx(), c.tenant.ID)
	if err != nil {
		return err
	}
	return c.reply(200, toRecordingSettingsJSON(st))
}

func (s *server) updateRecordingSettings(c *call) error {
	rs, err := s.recs()
	if err != nil {
		return err
	}
	var in recordingSettingsRequest
	if err := c.decode(&in); err != nil {
		return err
	}
	st, err := rs.Settings(c.ctx(), c.tenant.ID)
	if err != nil {
		return err
	}
	var fe fieldErrors
	if in.RetentionDays != nil {
		st.RetentionDays = *in.RetentionDays
		if st.RetentionDays < 1 || st.RetentionDays > store.MaxRetentionDays {
			fe.add("retention_days", "must be between 1 and %d: recordings are never kept longer", store.MaxRetentionDays)
		}
	}
	if in.Announce != nil {
		st.Announce = *in.Announce
	}
	if in.ToggleCode != nil {
		st.ToggleCode = *in.ToggleCode
		if n := len(st.ToggleCode); n < 1 || n > 4 || strings.Trim(st.ToggleCode, "0123456789*#") != "" {
			fe.add("toggle_code", "must be 1 to 4 of 0-9, * and #")
		}
	}
	change := exportChanges(&fe, &st.Export, in.Export)
	if err := fe.err(); err != nil {
		return err
	}
	if err := rs.SetSettings(c.ctx(), st, change); err != nil {
		return err
	}
	if st, err = rs.Settings(c.ctx(), c.tenant.ID); err != nil {
		return err
	}
	return c.reply(200, toRecordingSettingsJSON(st))
}

// exportChanges applies a request's export fields to e and returns the
// change of its credentials; an enabled export must be complete.
func exportChanges(fe *fieldErrors, e *store.ExportSettings, in *recordingExportRequest) store.SecretChange {
	if in == nil {
		return store.SecretChange{}
	}
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = strings.TrimSpace(*v)
		}
	}
	set(&e.Host, in.Host)
	set(&e.Username, in.Username)
	set(&e.HostKey, in.HostKey)
	set(&e.Dir, in.Dir)
	if in.Port != nil {
		e.Port = *in.Port
	}
	if in.Enabled != nil {
		e.Enabled = *in.Enabled
	}
	if in.DeleteLocal != nil {
		e.DeleteLocal = *in.DeleteLocal
	}
	change := store.SecretChange{Password: in.Password, PrivateKey: in.PrivateKey}
	if in.Password != nil {
		e.HasPassword = *in.Password != ""
	}
	if in.PrivateKey != nil {
		e.HasKey = *in.PrivateKey != ""
		if _, err := ssh.ParsePrivateKey([]byte(*in.PrivateKey)); e.HasKey && err != nil {
			fe.add("export.private_key", "is not an unencrypted private key in PEM form")
		}
	}
	if e.Port < 1 || e.Port > 65535 {
		fe.add("export.port", "must be between 1 and 65535")
	}
	if e.HostKey != "" {
		if _, _, _, _, err := ssh.ParseAuthorizedKey([]byte(e.HostKey)); err != nil {
			fe.add("export.host_key", "is not a public key in authorized_keys form")
		}
	}
	if e.Enabled {
		for _, f := range []struct{ name, v string }{{"export.host", e.Host}, {"export.username", e.Username}, {"export.host_key", e.HostKey}} {
			if f.v == "" {
				fe.add(f.name, "is required to export")
			}
		}
		if !e.HasPassword && !e.HasKey {
			fe.add("export.password", "a password or a private key is required to export")
		}
	}
	return change
}
