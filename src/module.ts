import { AppPlugin } from '@grafana/data';

import { AppConfig } from './components/AppConfig';
import { AppJsonData } from './types';

export const plugin = new AppPlugin<AppJsonData>().addConfigPage({
  title: 'Configuration',
  icon: 'cog',
  body: AppConfig,
  id: 'configuration',
});
