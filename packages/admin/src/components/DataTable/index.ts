export { type ColumnPrefsColumn, useColumnPrefs } from './columnPrefs';
export { DataTable, type DataTableColumn, type DataTablePage, type DataTableProps, nextSort } from './DataTable';
export { useCursorPager } from './pager';
