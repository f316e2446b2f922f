package collector

// AddXLSX reads an Excel workbook into the batch.
func (b *Batch) AddXLSX(name string, data []byte) {
	b.fail(name, "", "", ErrMalformed, "暂不支持 Excel 文件：请另存为 CSV")
}
