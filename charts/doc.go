// Package charts builds kpimon's pages for leaders (总览、乡镇、指标、排名、预警) from the
// evaluation the monitor holds in memory, serves them over HTTP and exports them as static
// files that open from file:// or any web server.
//
// Chart options are built with go-echarts and emitted as JSON inside
// <script type="application/json"> elements through html/template; one static, embedded
// script (assets/kpimon.js) reads them and hands them to ECharts (assets/echarts.min.js, the
// npm package echarts@5.4.3 that go-echarts v2.6.7 expects). No page has inline script, so
// the server sends a strict Content-Security-Policy, and no user string ever becomes live
// JavaScript: go-echarts' "__f__" formatter mechanism is never used, and the few formatters
// the pages need are named in the JSON and defined in the static script.
//
// Builders are pure: a Snapshot (the assessment, the evaluations of months 1 … P and the
// time of the last report) in, a page out, with fixed chart IDs so output is reproducible.
// The Handler caches each rendered page per data version, period and page until the data
// change.
package charts
