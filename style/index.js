import 'uplot/dist/uPlot.min.css';
import './base.css';
import './schedules.css';
import './pipelines.css';
