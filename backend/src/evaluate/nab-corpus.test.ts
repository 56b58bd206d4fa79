import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { NAB_PROFILES, nabScore, scoreAtThreshold, scoreCorpus, type NabProfileName } from './nab';
import {
  NabCorpusError,
  parseNabTimestamp,
  readNabCorpus,
  readReferenceScores,
  referenceDetectors,
  type NabSeries,
} from './nab-corpus';

const T0 = Date.UTC(2014, 1, 14, 14, 30) / 1000;
const nabTime = (t: number) => new Date(t * 1000).toISOString().slice(0, 19).replace('T', ' ');

describe('parseNabTimestamp', () => {
  it("reads NAB's naive times as UTC seconds", () => {
    expect(parseNabTimestamp('2014-02-14 14:30:00')).toBe(T0);
    expect(parseNabTimestamp('2014-02-14T14:30:00')).toBe(T0);
    expect(parseNabTimestamp(' 2014-02-19 10:50:00.000000\r')).toBe(Date.UTC(2014, 1, 19, 10, 50) / 1000);
    expect(parseNabTimestamp('2000-02-29 23:59:59.5')).toBe(Date.UTC(2000, 1, 29, 23, 59, 59) / 1000 + 0.5);
    expect(parseNabTimestamp('1969-12-31 23:59:59')).toBe(-1);
    // Over a range of days, as Date.UTC has them.
    for (let d = 0; d < 3000; d += 37) {
      const t = Date.UTC(2011, 0, 1) / 1000 + d * 86400 + 3723;
      expect(parseNabTimestamp(nabTime(t))).toBe(t);
    }
    expect(parseNabTimestamp('x,2014-02-14 14:30:00,1', 2, 21)).toBe(T0);
  });
  it('gives NaN for anything else', () => {
    for (const bad of [
      '',
      '2014-02-14',
      '2014-02-30 00:00:00',
      '2015-02-29 00:00:00',
      '2014-13-01 00:00:00',
      '2014-02-14 24:00:00',
      '2014/02/14 14:30:00',
      '2014-02-14 14:30:0x',
      '2014-02-14 14:30:00.',
      '1392388200',
    ])
      expect(parseNabTimestamp(bad)).toBeNaN();
  });
});

describe('readNabCorpus and readReferenceScores (generated corpus)', () => {
  let dir: string;
  let data: string;
  let windowsFile: string;
  let refs: string;
  const write = (file: string, text: string) => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
  };
  const dataCsv = (rows: Array<[number, number]>) =>
    'timestamp,value\n' + rows.map(([t, v]) => `${nabTime(t)},${v}`).join('\n') + '\n';
  const resultsCsv = (times: number[], score: (i: number) => number) =>
    'timestamp,anomaly_score\n' + times.map((t, i) => `${nabTime(t)},${score(i)}`).join('\n') + '\n';
  // catA/x.csv repeats its third time (NAB files do); catA/y.csv has no windows; catB/z.csv is the only B.
  const xTimes = [0, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9].map((k) => T0 + 300 * k);
  const yTimes = Array.from({ length: 8 }, (_, k) => T0 + 60 * k);
  const zTimes = Array.from({ length: 12 }, (_, k) => T0 + 3600 * k);
  const windows = {
    'catA/x.csv': [[nabTime(xTimes[5]) + '.000000', nabTime(xTimes[7]) + '.000000']],
    'catA/y.csv': [],
    'catB/z.csv': [[nabTime(zTimes[8]), nabTime(zTimes[9])]],
  };

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prescaler-nab-corpus-'));
    data = path.join(dir, 'data');
    write(path.join(data, 'catA', 'x.csv'), dataCsv(xTimes.map((t, i) => [t, i])));
    write(path.join(data, 'catA', 'y.csv'), dataCsv(yTimes.map((t, i) => [t, 10 + i])));
    write(path.join(data, 'catB', 'z.csv'), dataCsv(zTimes.map((t, i) => [t, 0.5 * i])));
    windowsFile = path.join(dir, 'combined_windows.json');
    write(windowsFile, JSON.stringify(windows));
    refs = path.join(dir, 'results');
    for (const [name, times] of [
      ['catA/x', xTimes],
      ['catA/y', yTimes],
      ['catB/z', zTimes],
    ] as const) {
      const [cat, base] = name.split('/');
      write(
        path.join(refs, 'det', cat, `det_${base}.csv`),
        resultsCsv(times, (i) => i / 100)
      );
    }
    // A flat results directory, rows in another order: matched by time.
    write(
      path.join(refs, 'flat', 'flat_x.csv'),
      resultsCsv([...xTimes].reverse(), (i) => 1 - i / 100)
    );
    write(
      path.join(refs, 'flat', 'flat_y.csv'),
      resultsCsv(yTimes, () => 0.5)
    );
    write(
      path.join(refs, 'flat', 'flat_z.csv'),
      resultsCsv(zTimes, () => 0.5)
    );
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("reads NAB's <category>/<file>.csv layout, rows in file order, windows in seconds", () => {
    const files = readNabCorpus(data, windowsFile);
    expect(files.map((f) => [f.name, f.category])).toEqual([
      ['catA/x.csv', 'catA'],
      ['catA/y.csv', 'catA'],
      ['catB/z.csv', 'catB'],
    ]);
    expect(Array.from(files[0].timestamps)).toEqual(xTimes);
    expect(Array.from(files[0].values)).toEqual(xTimes.map((_, i) => i));
    expect(files[0].windows).toEqual([[xTimes[5], xTimes[7]]]);
    expect(files[1].windows).toEqual([]);
    expect(files[2].windows).toEqual([[zTimes[8], zTimes[9]]]);
  });

  it('reads a flat directory of NAB CSVs as one category, windows found by file name', () => {
    const flat = path.join(dir, 'flat-data');
    fs.mkdirSync(flat);
    fs.copyFileSync(path.join(data, 'catA', 'x.csv'), path.join(flat, 'x.csv'));
    fs.copyFileSync(path.join(data, 'catB', 'z.csv'), path.join(flat, 'z.csv'));
    const files = readNabCorpus(flat, windowsFile);
    expect(files.map((f) => [f.name, f.category])).toEqual([
      ['flat-data/x.csv', 'flat-data'],
      ['flat-data/z.csv', 'flat-data'],
    ]);
    expect(files[1].windows).toEqual([[zTimes[8], zTimes[9]]]);
  });

  it("reads each detector's scores from nested or flat results, row for row or by time", () => {
    const files = readNabCorpus(data, windowsFile);
    expect(referenceDetectors(refs)).toEqual(['det', 'flat']);
    const det = readReferenceScores(refs, 'det', files);
    expect(Array.from(det[0])).toEqual(xTimes.map((_, i) => i / 100));
    // Reversed rows: each data row takes the first results row at its time (the repeated time: reversed
    // row 7, score 0.93, for both data rows 2 and 3).
    const flat = readReferenceScores(refs, 'flat', files);
    expect(Array.from(flat[0])).toEqual([
      1 - 0.1,
      1 - 0.09,
      1 - 0.07,
      1 - 0.07,
      1 - 0.06,
      1 - 0.05,
      1 - 0.04,
      1 - 0.03,
      1 - 0.02,
      1 - 0.01,
      1,
    ]);
    // And the corpus scores: catA and catB, so held out by category.
    const [r] = scoreCorpus(
      files.map((f, k) => ({ ...f, scores: det[k] })),
      { profiles: ['standard'] }
    );
    expect(r.heldOutBy).toBe('category');
    expect(r.perCategory.map((c) => [c.category, c.files, c.windows])).toEqual([
      ['catA', 2, 1],
      ['catB', 1, 1],
    ]);
  });

  it('says clearly what is wrong with a corpus', () => {
    const bad = (name: string, layout: Record<string, string>, win: unknown = windows) => {
      const root = path.join(dir, 'bad', name);
      for (const [f, text] of Object.entries(layout)) write(path.join(root, 'data', f), text);
      fs.mkdirSync(path.join(root, 'data'), { recursive: true });
      write(path.join(root, 'windows.json'), typeof win === 'string' ? win : JSON.stringify(win));
      return () => readNabCorpus(path.join(root, 'data'), path.join(root, 'windows.json'));
    };
    const x = dataCsv(xTimes.map((t, i) => [t, i]));
    expect(bad('no-key', { 'catA/x.csv': x, 'catC/w.csv': x })).toThrow(
      /no windows for catC\/w\.csv \(keys are "<category>\/<file>\.csv"/
    );
    expect(bad('empty-category', { 'catA/x.csv': x, 'catB/notes.txt': 'hi' })).toThrow(
      /catB: category directory without \.csv files/
    );
    expect(bad('empty', {})).toThrow(/no \.csv files and no category directories/);
    expect(bad('mixed', { 'catA/x.csv': x, 'x.csv': x })).toThrow(
      /both \.csv files \(x\.csv\) and category directories/
    );
    expect(
      bad('off-row', { 'catA/x.csv': x }, { 'catA/x.csv': [[nabTime(xTimes[5] + 1), nabTime(xTimes[7])]] })
    ).toThrow(/window 0 of catA\/x\.csv starts at 2014-02-14T14:50:01Z, which is no row of/);
    expect(bad('header', { 'catA/x.csv': 'time,value\n2014-02-14 14:30:00,1\n' })).toThrow(
      /x\.csv: a NAB data file has the columns "timestamp" and "value", the header is "time,value"/
    );
    expect(bad('extra-column', { 'catA/x.csv': 'timestamp,value,label\n2014-02-14 14:30:00,1,0\n' })).toThrow(
      /a NAB data file has the header "timestamp,value"/
    );
    expect(
      bad('bad-time', { 'catA/x.csv': 'timestamp,value\n2014-02-14 14:30:00,1\n14/02/2014 14:35,2\n' })
    ).toThrow(/x\.csv:3: bad timestamp "14\/02\/2014 14:35"/);
    expect(bad('bad-value', { 'catA/x.csv': 'timestamp,value\n2014-02-14 14:30:00,\n' })).toThrow(
      /x\.csv:2: value "" is not a finite number/
    );
    expect(bad('columns', { 'catA/x.csv': 'timestamp,value\n2014-02-14 14:30:00,1,2\n' })).toThrow(
      /x\.csv:2: 3 columns, the header has 2/
    );
    expect(bad('no-rows', { 'catA/x.csv': 'timestamp,value\n' })).toThrow(/x\.csv: no data rows/);
    expect(bad('json', { 'catA/x.csv': x }, '{"catA/x.csv": [')).toThrow(/cannot read the windows JSON/);
    expect(bad('pairs', { 'catA/x.csv': x }, { 'catA/x.csv': [['2014-02-14 14:55:00']] })).toThrow(
      /window 0 of catA\/x\.csv is not a pair of NAB times/
    );
    expect(() => readNabCorpus(path.join(dir, 'nowhere'), windowsFile)).toThrow(
      /cannot read the data directory/
    );
    expect(() => readNabCorpus(data, path.join(dir, 'nowhere.json'))).toThrow(NabCorpusError);
  });

  it("says clearly what is wrong with a detector's results", () => {
    const files = readNabCorpus(data, windowsFile);
    const results = (det: string, text: string) => {
      write(path.join(refs, det, 'catA', `${det}_x.csv`), text);
      write(
        path.join(refs, det, 'catA', `${det}_y.csv`),
        resultsCsv(yTimes, () => 0)
      );
      write(
        path.join(refs, det, 'catB', `${det}_z.csv`),
        resultsCsv(zTimes, () => 0)
      );
      return () => readReferenceScores(refs, det, files);
    };
    expect(
      results(
        'missingrow',
        resultsCsv(
          xTimes.filter((_, i) => i !== 6),
          () => 0.1
        )
      )
    ).toThrow(/missingrow_x\.csv: no row for 2014-02-14T14:55:00Z \(row 7 of catA\/x\.csv\)/);
    expect(results('nocolumn', 'timestamp,value\n')).toThrow(
      /a NAB results file has the columns "timestamp" and "anomaly_score", the header is "timestamp,value"/
    );
    expect(
      results(
        'nan',
        resultsCsv(xTimes, (i) => (i === 4 ? NaN : 0))
      )
    ).toThrow(/nan_x\.csv:6: anomaly_score "NaN" is not a finite number/);
    fs.rmSync(path.join(refs, 'missingrow', 'catB'), { recursive: true });
    expect(() => readReferenceScores(refs, 'missingrow', files.slice(2))).toThrow(
      /no results file for catB\/z\.csv: none of .*missingrow\/catB\/missingrow_z\.csv, .*missingrow\/missingrow_z\.csv/
    );
  });
});

// NAB's own figures for the shared corpus (51 of NAB's 58 files), from numenta/NAB at ea702d75 (the
// commit the corpus was cut from):
// - PUBLISHED_*: NAB's published per-file scores, results/<detector>/<detector>_<profile>_scores.csv
//   (column Score: each file at NAB's tuned threshold, config/thresholds.json), for these 51 files.
// - NAB_SWEPT: NAB's method run on these 51 files by NAB's own code: nab/sweeper.py's Sweeper
//   (calcSweepScore on every file, calcScoreByThreshold on all rows together) and nab/optimizer.py's choice
//   of the best, driven by a 30-line Python script over the shared data and reference results. NAB never
//   published figures for this 51-file cut (its final_results.json is over 58 files), so these are what
//   its method yields here.
const DETECTORS = ['ARTime', 'contextOSE', 'numenta', 'randomCutForest', 'windowedGaussian', 'null'] as const;
/** NAB's published per-file `Score`, standard profile, in DETECTORS order. */
const PUBLISHED_STANDARD: Record<string, number[]> = {
  'artificialNoAnomaly/art_daily_no_noise.csv': [-0.11, 0.0, -0.22, 0.0, 0.0, 0.0],
  'artificialNoAnomaly/art_daily_perfect_square_wave.csv': [0.0, -0.11, 0.0, 0.0, 0.0, 0.0],
  'artificialNoAnomaly/art_daily_small_noise.csv': [0.0, -0.11, -0.22, 0.0, 0.0, 0.0],
  'artificialNoAnomaly/art_flatline.csv': [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
  'artificialNoAnomaly/art_noisy.csv': [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
  'artificialWithAnomaly/art_daily_flatmiddle.csv': [
    0.8039739326751801, 0.905472168219, 0.499996314723, -1.0, -1.0, -1.0,
  ],
  'artificialWithAnomaly/art_daily_jumpsdown.csv': [
    0.9934530536103384, 0.75067182427, 0.748908670438, -1.0, -1.0, -1.0,
  ],
  'artificialWithAnomaly/art_daily_jumpsup.csv': [
    0.8589086704377245, 0.86067182427, 0.86067182427, 0.86067182427, -1.0, -1.0,
  ],
  'artificialWithAnomaly/art_daily_nojump.csv': [-1.11, -1.22, -1.27835146592, -1.0, -1.0, -1.0],
  'artificialWithAnomaly/art_increase_spike_density.csv': [
    0.846035950698122, 0.86241650019, 0.86067182427, -1.0, -1.0, -1.0,
  ],
  'artificialWithAnomaly/art_load_balancer_spikes.csv': [
    0.0493832824805146, 0.600378699165, 0.734788146524, -1.0, -0.692444609523, -1.0,
  ],
  'realAWSCloudwatch/ec2_cpu_utilization_24ae8d.csv': [
    1.6316790938898516, 1.72310160415, 1.27956648491, 0.524546983675, -1.26667875935, -2.0,
  ],
  'realAWSCloudwatch/ec2_cpu_utilization_5f5533.csv': [
    1.6976723158532012, 1.51401371437, 1.72310160415, 1.72310160415, -2.0, -2.0,
  ],
  'realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv': [
    0.819554525214459, 0.81109354691, 0.846537840284, 0.956537840284, 0.956537840284, -1.0,
  ],
  'realAWSCloudwatch/ec2_cpu_utilization_c6585a.csv': [-0.11, -0.22, -0.33, -1.43, -1.32, 0.0],
  'realAWSCloudwatch/ec2_disk_write_bytes_1ef3de.csv': [
    0.46730245349086535, 0.534466841546, 0.59454409372, -1.95481814646, -4.19089678552, -1.0,
  ],
  'realAWSCloudwatch/ec2_disk_write_bytes_c0d644.csv': [
    0.2810634605635003, 0.556844776111, 0.556842909788, 0.322342519631, -1.09599853032, -3.0,
  ],
  'realAWSCloudwatch/ec2_network_in_257a54.csv': [
    0.7648520127677702, 0.85712688145, 0.86067182427, 0.86067182427, 0.86067182427, -1.0,
  ],
  'realAWSCloudwatch/ec2_network_in_5abac7.csv': [
    1.0348311473992204, 1.54380671448, 1.43157140283, 1.06256984665, -3.52193223519, -2.0,
  ],
  'realAWSCloudwatch/grok_asg_anomaly.csv': [
    2.230665583083, 0.629097234712, 2.09185151682, 1.71945773308, 2.37942230674, -3.0,
  ],
  'realAWSCloudwatch/iio_us-east-1_i-a2eb1cd9_NetworkIn.csv': [-2.33, -2.11, -2.0, -2.0, -2.0, -2.0],
  'realAWSCloudwatch/rds_cpu_utilization_e47b3b.csv': [
    1.405996220856109, 1.61705857034, 1.71226928014, 1.61310160415, -0.138449197924, -2.0,
  ],
  'realAdExchange/exchange-2_cpc_results.csv': [
    0.5319830425923286, 0.832350327444, 0.53195803375, -1.0, -1.0, -1.0,
  ],
  'realAdExchange/exchange-2_cpm_results.csv': [
    -0.14465135576188293, -0.245878346979, 1.50824342415, -0.135878346979, -2.0, -2.0,
  ],
  'realAdExchange/exchange-3_cpc_results.csv': [
    2.7007622427413946, 2.48872770811, 2.72249645115, 2.61266176731, 2.50266326119, -3.0,
  ],
  'realAdExchange/exchange-3_cpm_results.csv': [
    0.6422052124689215, 0.862098587352, 0.752161591569, 0.862098587352, 0.862098587352, -1.0,
  ],
  'realAdExchange/exchange-4_cpc_results.csv': [
    2.046652209252552, 0.622257696424, 0.512259966677, 0.0725680870055, 0.292288463428, -3.0,
  ],
  'realAdExchange/exchange-4_cpm_results.csv': [
    1.2574684165754575, 1.60471036268, 1.49471036268, 1.16472167997, 1.27471036268, -4.0,
  ],
  'realKnownCause/ambient_temperature_system_failure.csv': [
    1.6577326504395065, -0.318599859273, -0.758599859273, 1.76216856994, -2.0, -2.0,
  ],
  'realKnownCause/ec2_request_latency_system_failure.csv': [
    1.3905835377463662, 1.99064449099, 1.70586905384, 1.84632452799, 2.02150685678, -3.0,
  ],
  'realKnownCause/machine_temperature_system_failure.csv': [
    2.5563301921824606, -0.164969541073, 1.36013273774, -2.1185689822, -4.0, -4.0,
  ],
  'realKnownCause/nyc_taxi.csv': [
    3.775210013719179, -1.31976791841, 2.43572773247, -3.1846309122, -5.0, -5.0,
  ],
  'realKnownCause/rogue_agent_key_hold.csv': [
    -1.280892312855327, -0.959262194153, -1.11370102385, -1.52739941276, -2.44, -2.0,
  ],
  'realKnownCause/rogue_agent_key_updown.csv': [
    -2.567650916046798, -2.22, -1.29575982814, -0.0742083677309, -1.3964908955, -2.0,
  ],
  'realTraffic/TravelTime_387.csv': [
    1.9284703309998337, 2.22072210783, 0.371826726451, -1.79598133079, -1.79598133079, -3.0,
  ],
  'realTraffic/TravelTime_451.csv': [0.8548083738085046, 0.86142179597, 0.55193672851, -1.0, -1.0, -1.0],
  'realTraffic/occupancy_6005.csv': [
    0.3602790466645597, 0.751332040976, 0.861272490375, 0.861272490375, -1.0, -1.0,
  ],
  'realTraffic/occupancy_t4013.csv': [
    1.6144604483793383, 1.7360251845, 1.6260251845, 1.7360251845, 1.72522152023, -2.0,
  ],
  'realTraffic/speed_6005.csv': [
    0.8393187159363497, 0.732622001756, 0.512622001756, 0.842622001756, 0.832538201468, -1.0,
  ],
  'realTraffic/speed_7578.csv': [
    3.1077313980278403, 3.36398870081, 3.19572468045, 1.47082197457, 3.47059145681, -4.0,
  ],
  'realTraffic/speed_t4013.csv': [
    1.6144604483793383, 1.86140505099, 1.98462491465, 1.75691291901, 1.76631783122, -2.0,
  ],
  'realTweets/Twitter_volume_AAPL.csv': [
    2.91610174881165, 1.69811445423, 1.26389791486, 0.75007641039, 1.51399683626, -4.0,
  ],
  'realTweets/Twitter_volume_AMZN.csv': [
    2.7366282533101085, -0.388619827125, -0.743957144663, 1.00857383384, 1.55848299457, -4.0,
  ],
  'realTweets/Twitter_volume_CRM.csv': [
    2.1007274110242746, 2.58270837681, 0.723575559502, 1.67850206467, 0.763845764094, -3.0,
  ],
  'realTweets/Twitter_volume_CVS.csv': [
    1.8380854899903283, 2.71038669891, 2.30950047794, -0.875186691416, 0.773682061394, -3.0,
  ],
  'realTweets/Twitter_volume_FB.csv': [
    1.2142436334445932, 1.72048222172, 1.61048222172, -1.5280192576, 0.119750278191, -2.0,
  ],
  'realTweets/Twitter_volume_GOOG.csv': [
    1.4058235968041468, 0.0496800021622, -0.260196174698, 0.0732226448328, -0.146777355167, -3.0,
  ],
  'realTweets/Twitter_volume_IBM.csv': [
    0.7780239854418971, 1.25036505493, -0.104111443719, -5.34294887359, -0.799109479229, -2.0,
  ],
  'realTweets/Twitter_volume_KO.csv': [
    2.2252443725910727, 0.720925635949, 2.46249313699, -1.57419610694, -0.914196106944, -3.0,
  ],
  'realTweets/Twitter_volume_PFE.csv': [
    2.5868270928040173, 3.56695393512, 3.02177643559, 2.25931448849, 0.26557999349, -4.0,
  ],
  'realTweets/Twitter_volume_UPS.csv': [
    3.213773060391244, 2.24708365207, 1.60907110405, 2.31720203311, -2.2051646682, -5.0,
  ],
};
/** NAB's published per-file scores summed over these 51 files, the other two profiles. */
const PUBLISHED_TOTALS: Record<string, Record<string, number>> = {
  ARTime: { reward_low_FP_rate: 35.800270661, reward_low_FN_rate: 45.126112043 },
  contextOSE: { reward_low_FP_rate: 35.60969745, reward_low_FN_rate: 17.949132925 },
  numenta: { reward_low_FP_rate: 28.594384762, reward_low_FN_rate: 23.605705728 },
  randomCutForest: { reward_low_FP_rate: -23.072137632, reward_low_FN_rate: -22.896666165 },
  windowedGaussian: { reward_low_FP_rate: -66.007586547, reward_low_FN_rate: -60.984213513 },
  null: { reward_low_FP_rate: -104.0, reward_low_FN_rate: -208.0 },
};
/** NAB's own Sweeper and optimiser (nab/sweeper.py, nab/optimizer.py) over these 51 files. */
const NAB_SWEPT: Record<
  string,
  Record<string, { threshold: number; raw: number; tp: number; fp: number }>
> = {
  ARTime: {
    standard: { threshold: 0.309287, raw: 54.184633325, tp: 151, fp: 178 },
    reward_low_FP_rate: { threshold: 0.317585, raw: 35.800270661, tp: 149, fp: 177 },
    reward_low_FN_rate: { threshold: 0.309287, raw: 45.184633325, tp: 151, fp: 178 },
  },
  contextOSE: {
    standard: { threshold: 0.766433566434, raw: 40.854129301, tp: 85, fp: 50 },
    reward_low_FP_rate: { threshold: 0.766433566434, raw: 35.60969745, tp: 85, fp: 50 },
    reward_low_FN_rate: { threshold: 0.707192923899, raw: 18.246277022, tp: 91, fp: 76 },
  },
  numenta: {
    standard: { threshold: 0.543099145074, raw: 41.605705728, tp: 204, fp: 137 },
    reward_low_FP_rate: { threshold: 0.575335555563, raw: 28.594384762, tp: 190, fp: 114 },
    reward_low_FN_rate: { threshold: 0.543099145074, raw: 23.605705728, tp: 204, fp: 137 },
  },
  randomCutForest: {
    standard: { threshold: 0.454019111529, raw: 2.176254617, tp: 423, fp: 372 },
    reward_low_FP_rate: { threshold: 0.575366064803, raw: -23.072137632, tp: 195, fp: 151 },
    reward_low_FN_rate: { threshold: 0.448060764197, raw: -22.896666165, tp: 442, fp: 389 },
  },
  windowedGaussian: {
    standard: { threshold: 1.0, raw: -22.984213513, tp: 437, fp: 404 },
    reward_low_FP_rate: { threshold: 1.0, raw: -66.007586547, tp: 437, fp: 404 },
    reward_low_FN_rate: { threshold: 1.0, raw: -60.984213513, tp: 437, fp: 404 },
  },
  null: {
    standard: { threshold: 1.1, raw: -104.0, tp: 0, fp: 0 },
    reward_low_FP_rate: { threshold: 1.1, raw: -104.0, tp: 0, fp: 0 },
    reward_low_FN_rate: { threshold: 1.1, raw: -208.0, tp: 0, fp: 0 },
  },
};

const NAB_CORPUS = path.resolve(__dirname, '../../../../shared/data/nab-corpus');
const haveCorpus = fs.existsSync(path.join(NAB_CORPUS, 'reference-detectors', 'numenta'));
const needs = haveCorpus ? '' : ' (skipped: the shared NAB corpus is not at ../shared/data/nab-corpus)';
(haveCorpus ? describe : describe.skip)(`NAB's own figures on the shared NAB corpus${needs}`, () => {
  let files: NabSeries[];
  const scores = new Map<string, Float64Array[]>();
  let thresholds: Record<string, Record<NabProfileName, { threshold: number }>>;
  beforeAll(() => {
    files = readNabCorpus(
      path.join(NAB_CORPUS, 'data'),
      path.join(NAB_CORPUS, 'labels/combined_windows.json')
    );
    for (const det of DETECTORS)
      scores.set(det, readReferenceScores(path.join(NAB_CORPUS, 'reference-detectors'), det, files));
    thresholds = JSON.parse(fs.readFileSync(path.join(NAB_CORPUS, 'config/thresholds.json'), 'utf8'));
  }, 60_000);
  const withScores = (det: string) => files.map((f, k) => ({ ...f, scores: scores.get(det)![k] }));
  const sweptCache = new Map<string, ReturnType<typeof nabScore>>();
  const swept = (det: string) => {
    if (!sweptCache.has(det)) sweptCache.set(det, nabScore(withScores(det)));
    return sweptCache.get(det)!;
  };

  it('reads all 51 files and their 104 windows', () => {
    expect(files).toHaveLength(51);
    expect(files.map((f) => f.name)).toEqual(Object.keys(PUBLISHED_STANDARD));
    expect(files.reduce((n, f) => n + f.windows.length, 0)).toBe(104);
  });

  it.each(DETECTORS)("%s: every file's score at NAB's threshold is NAB's published one", (det) => {
    const d = DETECTORS.indexOf(det);
    const at = (profile: NabProfileName, f: (typeof files)[number], k: number) =>
      scoreAtThreshold(
        [{ ...f, scores: scores.get(det)![k] }],
        NAB_PROFILES[profile],
        thresholds[det][profile].threshold
      ).score;
    files.forEach((f, k) => expect(at('standard', f, k)).toBeCloseTo(PUBLISHED_STANDARD[f.name][d], 9));
    for (const profile of ['reward_low_FP_rate', 'reward_low_FN_rate'] as const) {
      const total = files.reduce((s, f, k) => s + at(profile, f, k), 0);
      expect(total).toBeCloseTo(PUBLISHED_TOTALS[det][profile], 8);
    }
  });

  it.each(DETECTORS)(
    "%s: the swept threshold and score are what NAB's sweeper gives on these files",
    (det) => {
      for (const r of swept(det)) {
        const nab = NAB_SWEPT[det][r.profile];
        expect(r.threshold).toBe(nab.threshold);
        expect(r.raw).toBeCloseTo(nab.raw, 8);
        expect([r.tp, r.fp]).toEqual([nab.tp, nab.fp]);
        // NAB normalises with the null detector's score on the same files and one tpWeight per window.
        expect(r.nullRaw).toBe(NAB_SWEPT.null[r.profile].raw);
        expect(r.score).toBeCloseTo((100 * (nab.raw - r.nullRaw)) / (104 - r.nullRaw), 8);
      }
    }
  );

  it('ranks the detectors as NAB published them over all 58 files (standard profile)', () => {
    const published: Record<string, Record<string, number>> = JSON.parse(
      fs.readFileSync(path.join(NAB_CORPUS, 'reference-detectors/final_results_full_corpus.json'), 'utf8')
    );
    const ours = Object.fromEntries(
      DETECTORS.map((det) => [det, swept(det).find((r) => r.profile === 'standard')!.score])
    );
    const byScore = (s: Record<string, number>) => [...DETECTORS].sort((a, b) => s[b] - s[a]);
    expect(byScore(ours)).toEqual(
      byScore(Object.fromEntries(DETECTORS.map((d) => [d, published[d].standard])))
    );
    expect(byScore(ours)).toEqual([
      'ARTime',
      'numenta',
      'contextOSE',
      'randomCutForest',
      'windowedGaussian',
      'null',
    ]);
  });

  it('holds each category out in turn, and its per-category figures add up to the corpus', () => {
    const [r] = scoreCorpus(withScores('numenta'), { profiles: ['standard'] });
    expect(r.heldOutBy).toBe('category');
    expect(r.perCategory.map((c) => c.category)).toEqual([
      'artificialNoAnomaly',
      'artificialWithAnomaly',
      'realAWSCloudwatch',
      'realAdExchange',
      'realKnownCause',
      'realTraffic',
      'realTweets',
    ]);
    expect(r.perCategory.reduce((s, c) => s + c.raw, 0)).toBeCloseTo(r.raw, 9);
    expect(r.perCategory.reduce((s, c) => s + c.heldOutRaw, 0)).toBeCloseTo(r.heldOutRaw, 9);
    // Files of one category share one held-out threshold.
    for (const c of r.perCategory)
      expect(
        new Set(r.perFile.filter((f) => f.category === c.category).map((f) => f.heldOutThreshold)).size
      ).toBe(1);
    expect(r.heldOut).toBeLessThanOrEqual(r.score);
  }, 60_000);
});
