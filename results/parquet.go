package results

import (
	"bytes"
	"fmt"
	"io"
	"slices"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"
)

// compression is shared by every Encode: the codec pools its zstd
// encoders, each ~1.5 MB of tables that a codec per file would allocate
// and clear again for a one-row points file.
var compression = &zstd.Codec{Level: zstd.SpeedDefault}

// Encode writes rows as one Parquet file: sorted by cmp first (the plain
// writer records sorting columns without sorting anything), zstd, one row
// group, the schema version in the key-value metadata. The file is built
// in memory: uploads over plain HTTP need a seekable body anyway.
func Encode[T any](rows []T, cmp func(a, b T) int) ([]byte, error) {
	if cmp != nil {
		slices.SortStableFunc(rows, cmp)
	}
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[T](&buf,
		parquet.Compression(compression),
		parquet.KeyValueMetadata(schemaVersionKey, SchemaVersion),
		parquet.MaxRowsPerRowGroup(int64(max(len(rows), 1))),
		parquet.PageBufferSize(min(parquet.DefaultPageBufferSize, max(4096, 64*len(rows)))),
	)
	if _, err := w.Write(rows); err != nil {
		return nil, fmt.Errorf("encode parquet: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("encode parquet: %w", err)
	}
	return buf.Bytes(), nil
}

// Decode reads every row of a file written by Encode, refusing files of
// another schema version.
func Decode[T any](r io.ReaderAt, size int64) ([]T, error) {
	f, err := parquet.OpenFile(r, size)
	if err != nil {
		return nil, fmt.Errorf("open parquet: %w", err)
	}
	if v, _ := f.Lookup(schemaVersionKey); v != SchemaVersion {
		return nil, fmt.Errorf("parquet file has schema version %q, this build reads %q", v, SchemaVersion)
	}
	reader := parquet.NewGenericReader[T](f)
	defer reader.Close()
	rows := make([]T, f.NumRows())
	n, err := reader.Read(rows)
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("read parquet: %w", err)
	}
	return rows[:n], nil
}

// Float32Column reads one float column of a file written by Encode,
// skipping nulls, without decoding any other column.
func Float32Column(r io.ReaderAt, size int64, column string) ([]float64, error) {
	f, err := parquet.OpenFile(r, size, parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return nil, fmt.Errorf("open parquet: %w", err)
	}
	if v, _ := f.Lookup(schemaVersionKey); v != SchemaVersion {
		return nil, fmt.Errorf("parquet file has schema version %q, this build reads %q", v, SchemaVersion)
	}
	leaf, ok := f.Schema().Lookup(column)
	if !ok {
		return nil, fmt.Errorf("parquet file has no column %q", column)
	}
	out := make([]float64, 0, f.NumRows())
	buf := make([]parquet.Value, 4096)
	for _, rg := range f.RowGroups() {
		pages := rg.ColumnChunks()[leaf.ColumnIndex].Pages()
		for {
			page, err := pages.ReadPage()
			if err == io.EOF {
				break
			}
			if err != nil {
				pages.Close()
				return nil, fmt.Errorf("read column %s: %w", column, err)
			}
			values := page.Values()
			for {
				n, err := values.ReadValues(buf)
				for _, v := range buf[:n] {
					if !v.IsNull() {
						out = append(out, float64(v.Float()))
					}
				}
				if err == io.EOF {
					break
				}
				if err != nil {
					pages.Close()
					return nil, fmt.Errorf("read column %s: %w", column, err)
				}
			}
		}
		if err := pages.Close(); err != nil {
			return nil, err
		}
	}
	return out, nil
}
