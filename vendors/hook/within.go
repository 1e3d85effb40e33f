package hook

// Within returns req with an Open whose configured limits are at most
// own: a limit the caller itself enforces and the hook can read (Azure's
// plugin configuration, the SSM document) is the most a freeze or thaw
// may take, whatever [budgets] says. Unset limits stay unset, so that
// the adapter's defaults fill them.
func Within(req Request, own Limits) Request {
	open := req.Open
	req.Open = func(caller string) (Opened, error) {
		eng, err := open(caller)
		if err != nil {
			return eng, err
		}
		if own.Budget > 0 && eng.Limits.Budget > own.Budget {
			eng.Limits.Budget = own.Budget
		}
		if own.Thaw > 0 && eng.Limits.Thaw > own.Thaw {
			eng.Limits.Thaw = own.Thaw
		}
		return eng, nil
	}
	return req
}
