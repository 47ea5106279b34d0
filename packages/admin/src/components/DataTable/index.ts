export { type ColumnPrefsColumn, useColumnPrefs } from './columnPrefs';
export {
  DataTable,
  type DataTableColumn,
  type DataTablePage,
  type DataTableProps,
  nextSort,
  PHONE_QUERY,
} from './DataTable';
export { PageButtons } from './PageButtons';
export { cursorPage, pagedListProps } from './pagedList';
export { useCursorPager } from './pager';
