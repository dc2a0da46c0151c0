// Package results owns infersweep's lake: the S3 connection, the object
// layout, and the Parquet schemas with their readers and writers. It knows
// nothing of Temporal.
package results
