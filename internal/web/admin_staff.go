package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
	"github.com/vippskit/vipps/internal/staff"
)

// The staff page (/admin/staff, administrators only): every account, and
// forms to add one, change a role, set a new password, and disable or
// enable an account. The service (package staff) decides what is allowed;
// each change is made by the signed-in administrator (payment.Actor) and
// logged by it.

// staffFlashID is the "payment" the staff page's messages are signed for:
// no orderId holds a NUL, so that no message of a payment fits here.
const staffFlashID vipps.OrderID = "\x00staff"

// adminStaffData is the data of admin_staff.html.
type adminStaffData struct {
	page
	Flash    *adminFlash
	Accounts []adminAccountView
	Roles    []adminRoleOption
	// MinPassword is the least length of a password.
	MinPassword int
}

// adminAccountView is one account as the page shows it.
type adminAccountView struct {
	Name      string
	Role      staff.Role
	RoleLabel string
	Disabled  bool
	// You: the account signed in now.
	You                 bool
	Created, CreatedISO string
	Updated, UpdatedISO string
	UpdatedBy           string
	// Forms' targets.
	RoleURL, PasswordURL, DisableURL, EnableURL string
}

// adminRoleOption is a role in a choice of roles.
type adminRoleOption struct {
	Role  staff.Role
	Label string
	Help  string
}

// adminStaff serves GET /admin/staff.
func (s *Server) adminStaff(w http.ResponseWriter, r *http.Request) {
	as, err := s.cfg.Staff.List(r.Context())
	if err != nil {
		s.adminFail(w, r, "", err)
		return
	}
	me, l := staffOf(r.Context()).Account, s.lang(r)
	d := adminStaffData{
		page:  s.adminPage(r, "staff", l.T("Staff")+" · vippskit admin"),
		Flash: s.adminFlashFrom(staffFlashID, r.URL.Query()), MinPassword: staff.MinPassword,
	}
	for _, role := range staff.Roles() {
		d.Roles = append(d.Roles, adminRoleOption{Role: role, Label: l.T(staffRoleLabel(role)), Help: l.T(staffRoleHelp(role))})
	}
	for _, a := range as {
		base := "/admin/staff/" + url.PathEscape(a.Name)
		d.Accounts = append(d.Accounts, adminAccountView{
			Name: a.Name, Role: a.Role, RoleLabel: l.T(staffRoleLabel(a.Role)), Disabled: a.Disabled, You: a.ID == me.ID,
			Created: adminTime(a.CreatedAt, false), CreatedISO: adminISO(a.CreatedAt),
			Updated: adminTime(a.UpdatedAt, false), UpdatedISO: adminISO(a.UpdatedAt), UpdatedBy: a.UpdatedBy,
			RoleURL: base + "/role", PasswordURL: base + "/password", DisableURL: base + "/disable", EnableURL: base + "/enable",
		})
	}
	s.writePage(w, r, http.StatusOK, "admin_staff.html", &d)
}

// staffBack sends the browser back to the staff page with a message.
func (s *Server) staffBack(w http.ResponseWriter, r *http.Request, kind, msg string) {
	v := url.Values{"msg": {msg}, "kind": {kind}, "sig": {s.adminFlashMAC(staffFlashID, kind, msg)}}
	http.Redirect(w, r, "/admin/staff?"+v.Encode(), http.StatusSeeOther)
}

// staffDone answers a change of an account: what was done, or why not.
func (s *Server) staffDone(w http.ResponseWriter, r *http.Request, err error, done string) {
	if err != nil {
		s.staffBack(w, r, adminError, s.staffRefusal(r, err))
		return
	}
	s.staffBack(w, r, adminOK, done)
}

// staffRefusal says why a change of an account was refused, for an
// administrator; an internal error is logged with the request id. The
// staff service's invalid and impossible changes are all a *staff.Refusal.
func (s *Server) staffRefusal(r *http.Request, err error) string {
	l := s.lang(r)
	if rf, ok := errors.AsType[*staff.Refusal](err); ok {
		return staffRefused(l, rf) + " " + l.T("Nothing was done.")
	}
	switch {
	case errors.Is(err, payment.ErrExists):
		return l.T("A user with that name exists already (names are the same whatever their case); nothing was done. Choose another name.")
	case errors.Is(err, payment.ErrNotFound):
		return l.T("There is no such user; nothing was done. Reload the page.")
	}
	rid := requestID(r.Context())
	s.log.ErrorContext(r.Context(), "admin staff change failed", "path", r.URL.Path, "request_id", rid, "err", err)
	return l.F("Something went wrong in the payment service; try again, or ask a developer to look at the log (request id %s).", rid)
}

// staffRefused says why a change of an account was refused, in l.
func staffRefused(l lang, r *staff.Refusal) string {
	switch r.Reason {
	case staff.NameEmpty:
		return l.T("Type a user name.")
	case staff.NameTooLong:
		return l.F("The user name is %d characters; use at most %d.", r.Length, r.Limit)
	case staff.NameNotText:
		return l.T("The user name holds something that is not text; type it again.")
	case staff.NameCharacter:
		return l.F("A user name may hold letters, digits and . _ @ - only (such as kari.nordmann), not %s.", strconv.QuoteRune(r.Char))
	case staff.PasswordTooShort:
		return l.F("The password is %d characters; use at least %d.", r.Length, r.Limit)
	case staff.PasswordTooLong:
		return l.F("The password is %d bytes; only the first %d count, so use a shorter one (æ, ø and å take 2 bytes each).", r.Length, r.Limit)
	case staff.UnknownRole:
		return l.T("Choose one of the roles on the page.")
	case staff.LastAdmin:
		return l.F("%s is the only enabled administrator, and someone must be able to manage staff; make another account an administrator first.", r.Name)
	}
	return l.F("The change was refused (%s).", string(r.Reason))
}

// adminStaffAdd serves POST /admin/staff (form fields name, role,
// password): a new account.
func (s *Server) adminStaffAdd(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	role := staff.Role(r.PostFormValue("role"))
	a, err := s.cfg.Staff.Add(r.Context(), clip(name, adminNameMax), role, r.PostFormValue("password"))
	if err != nil {
		s.staffDone(w, r, err, "")
		return
	}
	l := s.lang(r)
	s.staffDone(w, r, nil, l.F("Added %s as %s. Give them the password in person or by another channel than this one.",
		a.Name, strings.ToLower(l.T(staffRoleLabel(a.Role)))))
}

// adminStaffRole serves POST /admin/staff/{name}/role (form field role).
func (s *Server) adminStaffRole(w http.ResponseWriter, r *http.Request) {
	a, err := s.cfg.Staff.SetRole(r.Context(), r.PathValue("name"), staff.Role(r.PostFormValue("role")))
	if err != nil {
		s.staffDone(w, r, err, "")
		return
	}
	l := s.lang(r)
	s.staffDone(w, r, nil, l.F("%s is now %s.", a.Name, strings.ToLower(l.T(staffRoleLabel(a.Role)))))
}

// adminStaffPassword serves POST /admin/staff/{name}/password (form field
// password): a new password, which signs the user out everywhere.
func (s *Server) adminStaffPassword(w http.ResponseWriter, r *http.Request) {
	a, err := s.cfg.Staff.SetPassword(r.Context(), r.PathValue("name"), r.PostFormValue("password"))
	if err != nil {
		s.staffDone(w, r, err, "")
		return
	}
	s.staffDone(w, r, nil, s.lang(r).F("%s has a new password and is signed out everywhere.", a.Name))
}

// adminStaffDisable serves POST /admin/staff/{name}/disable: the user is
// signed out everywhere and cannot sign in.
func (s *Server) adminStaffDisable(w http.ResponseWriter, r *http.Request) {
	a, err := s.cfg.Staff.SetDisabled(r.Context(), r.PathValue("name"), true)
	if err != nil {
		s.staffDone(w, r, err, "")
		return
	}
	s.staffDone(w, r, nil, s.lang(r).F("%s is disabled and signed out everywhere.", a.Name))
}

// adminStaffEnable serves POST /admin/staff/{name}/enable.
func (s *Server) adminStaffEnable(w http.ResponseWriter, r *http.Request) {
	a, err := s.cfg.Staff.SetDisabled(r.Context(), r.PathValue("name"), false)
	if err != nil {
		s.staffDone(w, r, err, "")
		return
	}
	s.staffDone(w, r, nil, s.lang(r).F("%s may sign in again.", a.Name))
}
