// Package users is fossil's table of users and groups: the text of
// /active/adm/users in the format of users(6), the built-in table fossil
// uses before that file is read, the questions the 9P server asks of it
// (is this user in that group, a leader of it, in noworld, in write),
// and the changes the console's uname command makes (fossilcons(8)).
//
// Every user is also a group. A line of the file is
//
//	id:name:leader:members
//
// where id is the string stored on disk (a file's uid, gid and muid),
// name is what 9P shows, and leader and members are names, not ids.
// Ids never change once written; a rename changes only the name, so the
// table is the translation between the two.
//
// A Table is safe for concurrent use: the 9P server asks it questions
// while the console changes it.
package users

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Names of the users fossil treats specially.
const (
	Adm     = "adm"
	None    = "none"
	Noworld = "noworld" // members lose world permissions (fossil(4))
	Sys     = "sys"
	Write   = "write" // if it exists, only members may write (fossil(4))
	Glenda  = "glenda"
)

// mandatory users must be in every table and cannot be renamed
// (fossilcons(8), users -d).
var mandatory = []string{Adm, None, Noworld, Sys}

// defaultText is the table fossil starts with and `users -d` restores.
// fossilcons(8) prints sys without members, but the C fossil's table
// has glenda in sys: the fixture fossil-b wrote exactly this plus root
// ("nuser 6 len 96" after `uname root root`).
const defaultText = "adm:adm:adm:sys\n" +
	"none:none::\n" +
	"noworld:noworld::\n" +
	"sys:sys::glenda\n" +
	"glenda:glenda:glenda:\n"

// A User is one line of the table.
type User struct {
	ID      string   // stored on disk
	Name    string   // shown by 9P
	Leader  string   // name of the group's leader; "" makes every member a leader
	Members []string // names of the group's members
}

// String formats u as a line of the users file, without the newline.
func (u User) String() string {
	return u.ID + ":" + u.Name + ":" + u.Leader + ":" + strings.Join(u.Members, ",")
}

func (u *User) clone() *User {
	c := *u
	c.Members = slices.Clone(u.Members)
	return &c
}

func (u *User) isMember(name string) bool {
	return slices.Contains(u.Members, name)
}

// A Table is the users table. The zero value is not usable; make one
// with Parse or Default.
type Table struct {
	mu     sync.RWMutex
	byID   map[string]*User
	byName map[string]*User
}

func newTable() *Table {
	return &Table{byID: map[string]*User{}, byName: map[string]*User{}}
}

// Default returns a new copy of the table fossil uses until a users file
// is read.
func Default() *Table {
	t, err := Parse(defaultText)
	if err != nil {
		panic("users: default table: " + err.Error())
	}
	return t
}

// Parse reads the text of a users file. Blank lines and lines starting
// with # are ignored. Errors name the line. The ids and names must be
// unique and valid, and the mandatory users (adm, none, noworld, sys)
// present; leaders and members may name users the table lacks, as old
// files do, and count for nothing until such a user is made.
func Parse(text string) (*Table, error) {
	t := newTable()
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimRightFunc(line, unicode.IsSpace)
		if line == "" || line[0] == '#' {
			continue
		}
		u, err := parseLine(line)
		if err != nil {
			return nil, fmt.Errorf("users: line %d: %v", i+1, err)
		}
		if _, ok := t.byID[u.ID]; ok {
			return nil, fmt.Errorf("users: line %d: duplicate id %s", i+1, u.ID)
		}
		if _, ok := t.byName[u.Name]; ok {
			return nil, fmt.Errorf("users: line %d: duplicate name %s", i+1, u.Name)
		}
		t.add(u)
	}
	for _, name := range mandatory {
		if t.byName[name] == nil {
			return nil, fmt.Errorf("users: missing mandatory user %s", name)
		}
	}
	return t, nil
}

func parseLine(line string) (*User, error) {
	f := strings.Split(line, ":")
	if len(f) != 4 {
		return nil, fmt.Errorf("%d fields, want id:name:leader:members", len(f))
	}
	u := &User{ID: f[0], Name: f[1], Leader: f[2]}
	if err := checkName(u.ID); err != nil {
		return nil, fmt.Errorf("id: %v", err)
	}
	if err := checkName(u.Name); err != nil {
		return nil, fmt.Errorf("name: %v", err)
	}
	if u.Leader != "" {
		if err := checkName(u.Leader); err != nil {
			return nil, fmt.Errorf("leader: %v", err)
		}
	}
	if f[3] != "" {
		for _, m := range strings.Split(f[3], ",") {
			if m == "" {
				continue
			}
			if err := checkName(m); err != nil {
				return nil, fmt.Errorf("member: %v", err)
			}
			if !u.isMember(m) {
				u.Members = append(u.Members, m)
			}
		}
	}
	return u, nil
}

// checkName reports whether s may be an id or a name. users(6) excludes
// ? = + - / : from names; the uname verbs (: % = + -) and comments (#)
// only matter at the start, so a dash inside a name ("www-data") is
// allowed. Commas separate members; a slash would make a home directory
// of two levels.
func checkName(s string) error {
	if s == "" {
		return fmt.Errorf("empty name")
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("bad name %q", s)
	}
	if strings.ContainsRune("#:%=+-?", rune(s[0])) {
		return fmt.Errorf("bad name %q", s)
	}
	for _, r := range s {
		if !unicode.IsPrint(r) || unicode.IsSpace(r) || strings.ContainsRune(":,/?=+", r) {
			return fmt.Errorf("bad name %q", s)
		}
	}
	return nil
}

func (t *Table) add(u *User) {
	t.byID[u.ID] = u
	t.byName[u.Name] = u
}

// sorted returns the users in the order of the users file the C fossil
// writes: by id.
func (t *Table) sorted() []*User {
	us := make([]*User, 0, len(t.byID))
	for _, u := range t.byID {
		us = append(us, u)
	}
	slices.SortFunc(us, func(a, b *User) int { return strings.Compare(a.ID, b.ID) })
	return us
}

// String returns the text of the users file.
func (t *Table) String() string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	var b strings.Builder
	for _, u := range t.sorted() {
		b.WriteString(u.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// Bytes returns the text of the users file, as written to
// /active/adm/users.
func (t *Table) Bytes() []byte { return []byte(t.String()) }

// Len is the number of users (the console's "nuser").
func (t *Table) Len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.byID)
}

// Users returns copies of all the users, in file order.
func (t *Table) Users() []User {
	t.mu.RLock()
	defer t.mu.RUnlock()
	var us []User
	for _, u := range t.sorted() {
		us = append(us, *u.clone())
	}
	return us
}

// Clone returns an independent copy of t.
func (t *Table) Clone() *Table {
	t.mu.RLock()
	defer t.mu.RUnlock()
	c := newTable()
	for _, u := range t.byID {
		c.add(u.clone())
	}
	return c
}

// Replace makes t's contents those of src (`users -r`, `users -d`), so
// that holders of t see the new table.
func (t *Table) Replace(src *Table) {
	if t == src {
		return
	}
	c := src.Clone()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.byID, t.byName = c.byID, c.byName
}

// ByID returns a copy of the user with the given id.
func (t *Table) ByID(id string) (User, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if u := t.byID[id]; u != nil {
		return *u.clone(), true
	}
	return User{}, false
}

// ByName returns a copy of the user with the given name.
func (t *Table) ByName(name string) (User, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if u := t.byName[name]; u != nil {
		return *u.clone(), true
	}
	return User{}, false
}

// Exists reports whether a user is called name.
func (t *Table) Exists(name string) bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.byName[name] != nil
}

// ID returns the id of the user called name.
func (t *Table) ID(name string) (string, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if u := t.byName[name]; u != nil {
		return u.ID, true
	}
	return "", false
}

// Name returns the name of the user with id; an id the table lacks (a
// user since removed from the file) stands for itself, as 9P stats
// must still show something.
func (t *Table) Name(id string) string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if u := t.byID[id]; u != nil {
		return u.Name
	}
	return id
}

// inGroup is InGroup with t locked.
func (t *Table) inGroup(uid, gid string) bool {
	if uid == gid {
		return true
	}
	g, u := t.byID[gid], t.byID[uid]
	if g == nil || u == nil {
		return false
	}
	return g.Leader == u.Name || g.isMember(u.Name)
}

// InGroup reports whether the user with id uid belongs to the group with
// id gid: every user is in its own group, and a leader counts as a
// member.
func (t *Table) InGroup(uid, gid string) bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.inGroup(uid, gid)
}

// IsLeader reports whether the user with id uid leads the group with id
// gid. A group without a leader is led by all its members (users(6)).
func (t *Table) IsLeader(uid, gid string) bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	g, u := t.byID[gid], t.byID[uid]
	if g == nil {
		return uid == gid
	}
	if g.Leader == "" {
		return t.inGroup(uid, gid)
	}
	return u != nil && g.Leader == u.Name
}

// groupID is the id of the group called name, if there is one.
func (t *Table) groupID(name string) (string, bool) {
	if g := t.byName[name]; g != nil {
		return g.ID, true
	}
	return "", false
}

// Noworld reports whether the user with id uid is in group noworld and
// so loses the world permissions of files.
func (t *Table) Noworld(uid string) bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	gid, ok := t.groupID(Noworld)
	return ok && t.inGroup(uid, gid)
}

// HasWriteGroup reports whether group write exists, making the file
// system read-only to those not in it.
func (t *Table) HasWriteGroup() bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	_, ok := t.groupID(Write)
	return ok
}

// InWrite reports whether the user with id uid may write: there is no
// group write, or uid is in it.
func (t *Table) InWrite(uid string) bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	gid, ok := t.groupID(Write)
	return !ok || t.inGroup(uid, gid)
}
