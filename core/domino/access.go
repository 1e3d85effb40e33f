package domino

// CheckAccess reports, without acting, whether quiesce may act as the
// configured Domino user (a freeze or thaw needs it): nil, or an error
// wrapping runas.ErrPermission.
func (s *Server) CheckAccess() error { return s.canAct() }
