package users

import (
	"errors"
	"fmt"
	"slices"
)

// UnameUsage is the usage line of the console's uname command.
const UnameUsage = "usage: uname name [id | :id | %newname | =leader | +member | -member]"

// A Change says what Uname did, for the console to finish the job.
type Change struct {
	// Entry is the user's line, id:name:leader:members, for `uname
	// name` to print.
	Entry string
	// Home is set by `uname name id`: the id whose home directory
	// /active/usr/id the console makes.
	Home string
	// Changed reports that the table changed; the console then writes
	// it to /active/adm/users (`users -w`).
	Changed bool
}

// Uname runs the console command uname on t; args are its arguments,
// without the command name. As fossilcons(8) defines them:
//
//	uname name            the entry of name
//	uname name id         make user name with id, and a home directory
//	uname name :id        make user name with id, no home directory
//	uname name %newname   rename name throughout the table
//	uname name =leader    make leader the group's leader
//	uname name =          remove the leader: every member leads
//	uname name +member    add member to the group
//	uname name -member    remove member from the group
//
// Errors are short and do not repeat the command name, which the
// console prefixes.
func (t *Table) Uname(args []string) (Change, error) {
	if len(args) < 1 || len(args) > 2 {
		return Change{}, errors.New(UnameUsage)
	}
	name := args[0]
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(args) == 1 {
		u := t.byName[name]
		if u == nil {
			return Change{}, fmt.Errorf("unknown user %s", name)
		}
		return Change{Entry: u.String()}, nil
	}
	verb := args[1]
	if verb == "" {
		return Change{}, errors.New(UnameUsage)
	}
	arg := verb[1:]
	var err error
	switch verb[0] {
	case '%':
		err = t.rename(name, arg)
	case '=':
		err = t.setLeader(name, arg)
	case '+':
		err = t.addMember(name, arg)
	case '-':
		err = t.removeMember(name, arg)
	case ':':
		err = t.create(name, arg)
	default:
		if err = t.create(name, verb); err == nil {
			return Change{Home: verb, Changed: true}, nil
		}
	}
	if err != nil {
		return Change{}, err
	}
	return Change{Changed: true}, nil
}

// group returns the user called name, or an error naming it.
func (t *Table) group(name string) (*User, error) {
	u := t.byName[name]
	if u == nil {
		return nil, fmt.Errorf("unknown user %s", name)
	}
	return u, nil
}

func (t *Table) create(name, id string) error {
	if err := checkName(name); err != nil {
		return err
	}
	if err := checkName(id); err != nil {
		return fmt.Errorf("id: %v", err)
	}
	if t.byName[name] != nil {
		return fmt.Errorf("user %s already exists", name)
	}
	if t.byID[id] != nil {
		return fmt.Errorf("id %s already in use", id)
	}
	t.add(&User{ID: id, Name: name})
	return nil
}

func (t *Table) rename(name, newname string) error {
	u, err := t.group(name)
	if err != nil {
		return err
	}
	if slices.Contains(mandatory, name) {
		return fmt.Errorf("user %s cannot be renamed", name)
	}
	if err := checkName(newname); err != nil {
		return err
	}
	if t.byName[newname] != nil {
		return fmt.Errorf("user %s already exists", newname)
	}
	delete(t.byName, name)
	u.Name = newname
	t.byName[newname] = u
	// Leaders and members are names: follow the rename everywhere.
	for _, g := range t.byID {
		if g.Leader == name {
			g.Leader = newname
		}
		for i, m := range g.Members {
			if m == name {
				g.Members[i] = newname
			}
		}
	}
	return nil
}

func (t *Table) setLeader(name, leader string) error {
	g, err := t.group(name)
	if err != nil {
		return err
	}
	if leader != "" && t.byName[leader] == nil {
		return fmt.Errorf("unknown user %s", leader)
	}
	g.Leader = leader
	return nil
}

func (t *Table) addMember(name, member string) error {
	g, err := t.group(name)
	if err != nil {
		return err
	}
	if t.byName[member] == nil {
		return fmt.Errorf("unknown user %s", member)
	}
	if g.isMember(member) {
		return fmt.Errorf("%s already a member of %s", member, name)
	}
	g.Members = append(g.Members, member)
	return nil
}

func (t *Table) removeMember(name, member string) error {
	g, err := t.group(name)
	if err != nil {
		return err
	}
	i := slices.Index(g.Members, member)
	if i < 0 {
		return fmt.Errorf("%s not a member of %s", member, name)
	}
	g.Members = slices.Delete(g.Members, i, i+1)
	return nil
}
