package staff

// DummyHash is the hash a sign-in of an unknown name is checked against.
func (s *Service) DummyHash() ([]byte, error) { return s.dummy() }
