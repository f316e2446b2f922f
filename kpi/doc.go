// Package kpi is kpimon's domain: the assessment (考核方案) with its townships, indicators,
// targets, pacing profiles and grades; the observations townships report; and the pure
// evaluation that turns them into statuses, scores, grades, rankings and alerts.
//
// The rules are the contract in the project's spec (kpi-semantics.md). Where the spec is
// silent, the rule chosen is written down next to the code that implements it.
//
// The package is pure: it reads no clock, opens no file or database and serves no HTTP.
// Time enters as an argument (Evaluate's now); storage and input formats live in other
// packages that convert into these types.
package kpi
