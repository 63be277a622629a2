// Package checklist grades Vipps' go-live checklist from what a merchant
// actually did against the simulator: [Grade] turns the simulator's audit
// evidence ([vippstest.Audit], served by GET /_sim/audit) and the checks of
// the fallBack URLs ([CheckFallBacks]) into one [Result] per item of
// [Items], in the checklist's order, and [WriteText], [WriteJSON],
// [WriteMarkdown] and [WriteHTML] render them. `vipps checklist` wires
// them together.
//
// Grading is pure: the same evidence always gives the same results. An
// item fails only on evidence that the merchant did something wrong;
// what the merchant has not done yet is "not-seen", with what to do in
// Result.Fix.
package checklist
