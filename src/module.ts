import { AppPlugin } from '@grafana/data';

import { AppConfig } from './components/AppConfig';
import { RootPage } from './pages/RootPage';
import { AppJsonData } from './types';

export const plugin = new AppPlugin<AppJsonData>().setRootPage(RootPage).addConfigPage({
  title: 'Configuration',
  icon: 'cog',
  body: AppConfig,
  id: 'configuration',
});
