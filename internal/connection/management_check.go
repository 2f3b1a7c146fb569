package connection

import (
	"context"

	"github.com/o365-terraform/terraform-provider-o365/internal/cloud"
	"github.com/o365-terraform/terraform-provider-o365/internal/graph"
	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
)

// ManagementDirectoryRoles reads the directory roles of the management identity itself, for
// the plan-time check of what its jobs need (DESIGN.md §7.1): a Graph token gives its service
// principal's object id (oid), and its active tenant-wide role assignments are listed (WIRE.md
// §C4). Readable is false when Graph refuses the read (the identity holds neither
// RoleManagement.Read.Directory nor Directory.Read.All, which nothing else needs): then
// nothing is known (nil), and apply finds out. A failed sign-in is returned as an error.
func (e *Env) ManagementDirectoryRoles(ctx context.Context, c cloud.Cloud, p Principal) (*DirectoryRoles, error) {
	s, err := e.session(c, p, ManagementAccount)
	if err != nil {
		return nil, err
	}
	t, err := s.src.Token(ctx, c.GraphScope())
	if err != nil {
		return nil, signInError(s, err)
	}
	if t.ObjectID == "" {
		return nil, nil
	}
	as, err := s.graph().ListRoleAssignments(ctx, t.ObjectID)
	switch {
	case graph.IsForbidden(err):
		return nil, nil
	case err != nil:
		return nil, err
	}
	return &DirectoryRoles{held: as}, nil
}

// DirectoryRoles are a principal's active, tenant-wide directory role assignments as read.
type DirectoryRoles struct {
	held []graph.RoleAssignment
}

// Lacking are the needs whose directory role the assignments do not grant; a Global
// Administrator lacks none.
func (d *DirectoryRoles) Lacking(needs []roles.Management) []roles.Management {
	grants := func(templateID string) bool {
		for _, a := range d.held {
			if a.Grants(templateID) {
				return true
			}
		}
		return false
	}
	if grants(roles.GlobalAdministratorTemplateID) {
		return nil
	}
	var out []roles.Management
	for _, n := range needs {
		if n.DirectoryRole != "" && !grants(n.DirectoryRoleTemplateID) {
			out = append(out, n)
		}
	}
	return out
}
