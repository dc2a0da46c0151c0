// Package analysis turns the lake's points into what users come for: the
// Pareto frontier of throughput per GPU against interactivity, throughput
// at a target interactivity along that frontier, and cost and energy per
// token. It is plain Go over results rows; nothing here knows Temporal.
package analysis
