import { DataSourcePlugin } from '@grafana/data';

import { ConfigEditor } from './components/ConfigEditor';
import { QueryEditor } from './components/QueryEditor';
import { DataSource } from './datasource';
import { PrescalerJsonData, PrescalerQuery } from './types';

export const plugin = new DataSourcePlugin<DataSource, PrescalerQuery, PrescalerJsonData>(DataSource)
  .setConfigEditor(ConfigEditor)
  .setQueryEditor(QueryEditor);
