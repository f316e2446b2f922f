// Package collector reads the figures townships report (CSV, JSON and Excel) into kpi
// observations and validates them against an assessment. It touches no database: a Batch
// gathers the rows of one or more files, checks every one, and either yields all of them or
// lists every invalid row as FILE:LINE: what is wrong, so a clerk fixes a file in one pass.
// Writing a valid batch is the storage package's job.
package collector
