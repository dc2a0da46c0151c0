package launch

import (
	"fmt"
	"strconv"
	"strings"
)

// RoleSpec is one rank of one worker of a deployment's role.
type RoleSpec struct {
	Spec
	Role                                string
	Worker, Rank, Nodes                 int
	MasterAddr                          string
	PrefillURLs, DecodeURLs, WorkerURLs []string
}

// RenderRole is the role's launch for this rank.
func RenderRole(rs RoleSpec, binary, host string) (Command, error) {
	l := rs.Point.Launch
	if l == nil {
		return Command{}, fmt.Errorf("%w for this deployment", ErrNoRecipe)
	}
	for _, r := range l.Roles {
		if r.Role != rs.Role {
			continue
		}
		p := rs.Point
		role := r.Launch
		p.Launch = &role
		cmd, err := Render(Spec{Point: p, Name: rs.Name, Port: rs.Port, TimeScale: rs.TimeScale}, binary, host)
		if err != nil {
			return cmd, err
		}
		fill := strings.NewReplacer("${NODE_RANK}", strconv.Itoa(rs.Rank), "${NNODES}", strconv.Itoa(rs.Nodes), "${MASTER_ADDR}", rs.MasterAddr,
			"${WORKER}", strconv.Itoa(rs.Worker), "${PREFILL_URLS}", strings.Join(rs.PrefillURLs, ","), "${DECODE_URLS}", strings.Join(rs.DecodeURLs, ","),
			"${WORKER_URLS}", strings.Join(rs.WorkerURLs, ","))
		for i := range cmd.Args {
			cmd.Args[i] = fill.Replace(cmd.Args[i])
		}
		return cmd, nil
	}
	return Command{}, fmt.Errorf("%w for role %s of this deployment", ErrNoRecipe, rs.Role)
}
