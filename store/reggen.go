package store

// RegistrationGeneration is a number that grows with every committed write
// that can change what DeviceRegistration returns other than the
// registrar's own binding writes (ApplyBindings) and the deletion of
// expired bindings: a write to the devices, users or tenants tables (as
// the connections count them, see tablegen.go: a new password, a
// suspension, a deleted device, licence or tenant, a deleted site's
// users...) and a binding removed by a push service (DeletePushBinding).
// A reader that notes it before reading the database and finds it
// unchanged later knows its copy is still the database's, once it leaves
// out the bindings expired meanwhile and applies the registrar's writes.
//
// ok is false on PostgreSQL: other nodes share that database and write
// without this process knowing, so nothing read from it may be kept.
func (s *Store) RegistrationGeneration() (gen uint64, ok bool) {
	if s.cache.gens == nil {
		return 0, false
	}
	return s.cache.gens.sum(deviceAuthTables) + s.regGen.Load(), true
}

// registrationsChanged is deferred by the writes of bindings other than
// the registrar's that RegistrationGeneration must count.
func (s *Store) registrationsChanged() { s.regGen.Add(1) }
