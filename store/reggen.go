package store

// RegistrationGeneration is a counter of the writes that can change what
// DeviceRegistration returns other than the registrar's own binding writes
// (ApplyBindings): a device created, deleted or given a new password, a
// licence updated, suspended, reactivated or terminated, a tenant updated,
// suspended or deleted, a site deleted (its users lose it), a binding removed
// by the API or by a push service. It grows after the write has committed,
// so a reader that notes it before reading the database and finds it
// unchanged later knows its copy is still the database's, up to the
// bindings that expired meanwhile (which a copy filters by time) and the
// registrar's own writes (which it applies to its copy itself).
//
// ok is false on PostgreSQL: other nodes share that database and write
// without this process knowing, so nothing read from it may be kept.
func (s *Store) RegistrationGeneration() (gen uint64, ok bool) {
	return s.regGen.Load(), s.d.name != "postgres"
}

// registrationsChanged is deferred by every write RegistrationGeneration
// counts; it runs after the write's commit (or failure, which costs a
// re-read and nothing else).
func (s *Store) registrationsChanged() { s.regGen.Add(1) }
