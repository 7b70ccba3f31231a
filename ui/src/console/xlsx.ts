// Excel export, written in the browser: a bold header row that stays in view, then the rows. The zip writer
// is loaded on demand: only the few who export pay for it.
import { downloadBlob } from '../shared/format';

/** A cell: a text or a number, with an Excel number format when it needs one (`0.0%`); null leaves it empty. */
export type XlsxCell = { value: string | number; format?: string } | null;

export interface XlsxSheet {
  header: string[];
  rows: XlsxCell[][];
  /** The sheet's name (Excel keeps 31 characters). */
  sheet: string;
  /** Column widths in characters. */
  widths: number[];
}

export async function downloadXlsx({ header, rows, sheet, widths }: XlsxSheet, fileName: string): Promise<void> {
  const { default: writeXlsxFile } = await import('write-excel-file/browser');
  const head = header.map((value) => ({ value, fontWeight: 'bold' as const }));
  const blob = await writeXlsxFile([head, ...rows], {
    sheet: sheet.slice(0, 31),
    stickyRowsCount: 1,
    columns: widths.map((width) => ({ width })),
  }).toBlob();
  downloadBlob(blob, fileName);
}
