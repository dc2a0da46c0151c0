// Package api serves the lake over HTTP: each sweep's report as a page
// and a read-only JSON API described by openapi.json, behind an optional
// bearer token and a script-free Content-Security-Policy. It answers from
// an index of sweeps refreshed from the lake's listing and from caches of
// the objects the lake never rewrites; the figures come from package
// analysis.
package api
