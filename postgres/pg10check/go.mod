module github.com/kpimon/kpimon/postgres/pg10check

go 1.26.8

require github.com/pganalyze/pg_query_go v1.0.3
