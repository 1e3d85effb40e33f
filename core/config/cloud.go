package config

import "time"

// CloudCallers are the callers whose budgets [budgets] NAME and NAME_thaw
// set in Budgets.Cloud: Nutanix Guest Tools and the cloud agents, whose
// limits are short.
var CloudCallers = []string{"nutanix", "gcp", "azure", "aws"}

func init() {
	for _, name := range CloudCallers {
		for _, key := range []string{name, name + "_thaw"} {
			nativeKeys["budgets"][key] = cloudBudget(key)
		}
	}
}

// cloudBudget sets one key of Budgets.Cloud.
func cloudBudget(key string) setter {
	return func(d *File, v string) string {
		dur, err := ParseDuration(v)
		if err != nil {
			return err.Error()
		}
		if d.Budgets.Cloud == nil {
			d.Budgets.Cloud = map[string]time.Duration{}
		}
		d.Budgets.Cloud[key] = dur
		return ""
	}
}
