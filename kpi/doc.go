// Package kpi is kpimon's domain: the assessment (考核方案) with its townships, indicators,
// targets, pacing profiles and grades; the observations townships report; and the pure
// evaluation that turns them into statuses, scores, grades, rankings and alerts.
//
// docs/semantics.md states the rules this package implements: kinds, targets and baselines,
// pacing, statuses, scores, grades, ranking, the county aggregate, alerts, the forecast and
// the input rules, including every rule chosen where the contract is silent, which is also
// written down next to the code that implements it.
//
// The package is pure: it reads no clock, opens no file or database and serves no HTTP.
// Time enters as an argument (Evaluate's now); storage and input formats live in other
// packages that convert into these types.
package kpi
